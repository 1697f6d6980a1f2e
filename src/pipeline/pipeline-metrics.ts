import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { QueueBackend } from '../queue/queue-backend.js';
import type { PipelineStats } from './pipeline-stats.js';

/** Geometric buckets from 1 ms to ~65 s. */
const DURATION_BUCKETS = Array.from({ length: 17 }, (_, i) => 0.001 * 2 ** i);

/**
 * prom-client metrics for pipelines, registered on `registry`. Queue depth is read from the backend at scrape
 * time, so it is the shared queue's depth whichever process serves the scrape.
 *
 * Cost per item = rate(modelplane_pipeline_step_seconds_total) / rate(modelplane_pipeline_items_total):
 * worker-seconds spent in steps per item processed.
 */
export function createPipelineMetrics(registry: Registry, backend: QueueBackend, pipelines: () => readonly string[]): PipelineStats {
  const registers = [registry];
  new Gauge({
    name: 'modelplane_pipeline_queue_runs',
    help: 'Runs in the pipeline queue by state (waiting, delayed, active, completed, dead, cancelled); dead is the DLQ size',
    labelNames: ['pipeline', 'state'],
    registers,
    async collect() {
      for (const p of pipelines()) {
        try {
          const d = await backend.depth(p);
          for (const [state, n] of Object.entries(d)) this.set({ pipeline: p, state }, n);
        } catch {
          // A scrape must not fail because the queue is unreachable; the series just goes stale.
        }
      }
    },
  });
  const runs = new Counter({ name: 'modelplane_pipeline_run_deliveries_total', help: 'Run deliveries by outcome (completed, retrying, dead, cancelled, lost)', labelNames: ['pipeline', 'outcome'], registers });
  const runSeconds = new Histogram({ name: 'modelplane_pipeline_run_duration_seconds', help: 'Processing time of one run delivery', labelNames: ['pipeline', 'outcome'], buckets: DURATION_BUCKETS, registers });
  const itemSeconds = new Histogram({ name: 'modelplane_pipeline_item_processing_seconds', help: 'Processing time per item (run time / fan-out items) of completed runs', labelNames: ['pipeline'], buckets: DURATION_BUCKETS, registers });
  const items = new Counter({ name: 'modelplane_pipeline_items_total', help: 'Items processed by completed runs (fan-out items, or 1 per run)', labelNames: ['pipeline'], registers });
  const stepSeconds = new Histogram({ name: 'modelplane_pipeline_step_duration_seconds', help: 'Duration of one step instance attempt', labelNames: ['pipeline', 'step', 'outcome'], buckets: DURATION_BUCKETS, registers });
  const stepTotal = new Counter({ name: 'modelplane_pipeline_step_seconds_total', help: 'Worker seconds spent in steps (the cost basis)', labelNames: ['pipeline', 'step'], registers });
  const stepRetries = new Counter({ name: 'modelplane_pipeline_step_retries_total', help: 'In-process step retries', labelNames: ['pipeline', 'step'], registers });
  const refused = new Counter({ name: 'modelplane_pipeline_submissions_refused_total', help: 'Submissions refused because the queue was full', labelNames: ['pipeline'], registers });

  return {
    stepFinished(pipeline, step, outcome, seconds) {
      if (outcome === 'skipped') return;
      stepSeconds.observe({ pipeline, step, outcome }, seconds);
      stepTotal.inc({ pipeline, step }, seconds);
    },
    stepRetried(pipeline, step) {
      stepRetries.inc({ pipeline, step });
    },
    runFinished(pipeline, outcome, seconds, n) {
      runs.inc({ pipeline, outcome });
      runSeconds.observe({ pipeline, outcome }, seconds);
      if (outcome === 'completed' && n > 0) {
        items.inc({ pipeline }, n);
        itemSeconds.observe({ pipeline }, seconds / n);
      }
    },
    submitRefused(pipeline) {
      refused.inc({ pipeline });
    },
  };
}
