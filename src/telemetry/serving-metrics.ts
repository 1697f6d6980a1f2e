import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import type { ModelManager } from '../lifecycle/model-manager.js';
import type { ServingContext } from '../lifecycle/serving-context.js';
import type { FixedHistogram } from '../scheduler/histogram.js';
import type { ModelStatistics } from '../scheduler/model-statistics.js';
import { ScrapeHistogram } from './scrape-histogram.js';

type VersionLabels = { model: string; version: string };
const LABELS = ['model', 'version'] as const;

function labelsOf(c: ServingContext): VersionLabels {
  return { model: c.name, version: String(c.version) };
}

/**
 * Prometheus metrics for serving. Every value is read from the versions' statistics (the same
 * numbers `/v2/models/stats` returns) when scraped, so the request path pays nothing for
 * prom-client. Names are `modelplane_*` in base units; labels are model and version only (plus a
 * bounded reason, state, output or le), never anything per request.
 */
export function servingMetricsRegistry(manager: ModelManager, registry = new Registry()): Registry {
  collectDefaultMetrics({ register: registry, prefix: 'modelplane_' });
  // prom-client names these gauges *_total, which promtool rejects; the per-type gauges beside them stay.
  for (const kind of ['handles', 'requests', 'resources']) registry.removeSingleMetric(`modelplane_nodejs_active_${kind}_total`);
  const ready = () => manager.readyContexts();

  /** A counter or gauge with one value per READY version (and optional extra labels), read at scrape time. */
  const perVersion = <E extends string>(
    kind: 'counter' | 'gauge',
    name: string,
    help: string,
    extra: readonly E[],
    values: (s: ModelStatistics, c: ServingContext) => Iterable<readonly [Record<E, string>, number]>,
  ) => {
    const labelNames = [...LABELS, ...extra];
    if (kind === 'counter') {
      new Counter({
        name, help, labelNames, registers: [registry],
        collect() {
          this.reset();
          for (const c of ready()) for (const [labels, v] of values(c.statistics, c)) this.inc({ ...labelsOf(c), ...labels }, v);
        },
      });
      return;
    }
    new Gauge({
      name, help, labelNames, registers: [registry],
      collect() {
        this.reset();
        for (const c of ready()) for (const [labels, v] of values(c.statistics, c)) this.set({ ...labelsOf(c), ...labels }, v);
      },
    });
  };
  const one = (v: (s: ModelStatistics, c: ServingContext) => number) => (s: ModelStatistics, c: ServingContext) => [[{}, v(s, c)] as const];

  perVersion('counter', 'modelplane_inference_request_success_total', 'Inference requests answered successfully.', [], one((s) => s.success.count));
  perVersion('counter', 'modelplane_inference_request_failure_total', 'Inference requests that failed, by reason (bad_request, rejected, timeout, cancelled, internal).', ['reason'],
    (s) => [...s.failuresByReason].map(([reason, n]) => [{ reason }, n] as const));
  perVersion('counter', 'modelplane_inference_count_total', 'Rows inferred (a request carrying a batch of 4 counts 4).', [], one((s) => s.inferenceCount));
  perVersion('counter', 'modelplane_inference_exec_count_total', 'Batches executed (fewer than rows inferred when batching works).', [], one((s) => s.executionCount));
  perVersion('gauge', 'modelplane_queue_depth', 'Requests waiting in the scheduler queue now.', [], one((_s, c) => c.batcher.queued));
  perVersion('gauge', 'modelplane_inflight_requests', 'Requests admitted and not yet answered (queued or running).', [], one((s) => s.inFlight));
  perVersion('gauge', 'modelplane_model_load_duration_seconds', 'How long loading the version took (instances and warm-up).', [], one((_s, c) => c.loadSeconds));
  new Gauge({
    name: 'modelplane_model_state',
    help: '1 for the state each model version is in (LOADING, READY, UNLOADING, UNAVAILABLE).',
    labelNames: [...LABELS, 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of manager.statuses()) this.set({ model: s.model, version: String(s.version), state: s.state }, 1);
    },
  });

  const histogram = (name: string, help: string, pick: (s: ModelStatistics) => FixedHistogram) =>
    register(registry, new ScrapeHistogram(name, help, function* () {
      for (const c of ready()) yield [labelsOf(c), pick(c.statistics)] as const;
    }));
  histogram('modelplane_inference_request_duration_seconds', 'Time from admission to answer of successful requests (queue + compute).', (s) => s.histograms.request);
  histogram('modelplane_inference_queue_duration_seconds', 'Time requests waited in the queue before their batch started.', (s) => s.histograms.queue);
  histogram('modelplane_inference_compute_input_duration_seconds', 'Per batch: assembling the batch inputs.', (s) => s.histograms.computeInput);
  histogram('modelplane_inference_compute_infer_duration_seconds', 'Per batch: the backend run.', (s) => s.histograms.computeInfer);
  histogram('modelplane_inference_compute_output_duration_seconds', 'Per batch: slicing outputs back to requests.', (s) => s.histograms.computeOutput);
  histogram('modelplane_batch_size', 'Rows per executed batch.', (s) => s.histograms.batchSize);
  register(registry, new ScrapeHistogram('modelplane_output_confidence', 'Top-1 score per row of outputs the config marks as class scores.', function* () {
    for (const c of ready()) {
      for (const [output, h] of c.statistics.confidence?.histograms ?? []) yield [{ ...labelsOf(c), output }, h] as const;
    }
  }));
  return registry;
}

/** prom-client's registry takes any object with `name` and `get()`; its type names only its own classes. */
function register(registry: Registry, metric: ScrapeHistogram): void {
  registry.registerMetric(metric as unknown as Metric);
}
