import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { ModelManager } from '../lifecycle/model-manager.js';
import type { ServingContext } from '../lifecycle/serving-context.js';

/**
 * Prometheus metrics for serving, read from each version's statistics when scraped, so the request
 * path pays nothing for them. Names follow `modelplane_*` with base units.
 */
export function servingMetricsRegistry(manager: ModelManager, registry = new Registry()): Registry {
  collectDefaultMetrics({ register: registry, prefix: 'modelplane_process_' });
  const labelNames = ['model', 'version'] as const;

  new Counter({
    name: 'modelplane_inference_requests_total',
    help: 'Inference requests answered, by outcome (success, failure, or the refusal code).',
    labelNames: [...labelNames, 'outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of manager.readyContexts()) {
        const s = c.statistics;
        const labels = { model: c.name, version: String(c.version) };
        this.inc({ ...labels, outcome: 'success' }, s.success.count);
        this.inc({ ...labels, outcome: 'failure' }, s.fail.count);
        for (const [code, n] of s.rejected) this.inc({ ...labels, outcome: code }, n);
      }
    },
  });
  /** A counter with one value per READY version, read from its statistics at scrape time. */
  const perVersion = (name: string, help: string, value: (c: ServingContext) => number) =>
    new Counter({
      name, help, labelNames: [...labelNames], registers: [registry],
      collect() {
        this.reset();
        for (const c of manager.readyContexts()) this.inc({ model: c.name, version: String(c.version) }, value(c));
      },
    });
  perVersion('modelplane_inferences_total', 'Rows inferred (a request with a batch of 4 counts 4).', (c) => c.statistics.inferenceCount);
  new Counter({
    name: 'modelplane_batch_executions_total',
    help: 'Batches executed, by batch size.',
    labelNames: [...labelNames, 'batch_size'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of manager.readyContexts()) {
        for (const [size, d] of c.statistics.byBatchSize) this.inc({ model: c.name, version: String(c.version), batch_size: String(size) }, d.count);
      }
    },
  });
  perVersion('modelplane_queue_seconds_total', 'Time requests spent queued before their batch ran.', (c) => c.statistics.queue.ns / 1e9);
  perVersion('modelplane_compute_seconds_total', 'Time spent executing batches.', (c) => c.statistics.computeInfer.ns / 1e9);
  perVersion('modelplane_request_seconds_total', 'End-to-end time of successful requests inside the scheduler.', (c) => c.statistics.success.ns / 1e9);
  new Gauge({
    name: 'modelplane_queue_depth',
    help: 'Requests waiting in the scheduler queue now.',
    labelNames: [...labelNames],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of manager.readyContexts()) this.set({ model: c.name, version: String(c.version) }, c.batcher.queued);
    },
  });
  new Gauge({
    name: 'modelplane_model_ready',
    help: '1 when the model version is READY, else 0.',
    labelNames: [...labelNames, 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of manager.statuses()) this.set({ model: s.model, version: String(s.version), state: s.state }, s.state === 'READY' ? 1 : 0);
    },
  });
  return registry;
}
