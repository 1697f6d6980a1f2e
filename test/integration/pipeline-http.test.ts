import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { createPipelineMetrics } from '../../src/pipeline/pipeline-metrics.js';
import { definePipeline, PipelineRegistry } from '../../src/pipeline/pipeline-registry.js';
import { PipelineService } from '../../src/pipeline/pipeline-service.js';
import { PipelineWorker } from '../../src/pipeline/pipeline-worker.js';
import { SqliteQueueBackend } from '../../src/queue/sqlite/sqlite-queue-backend.js';
import { registerPipelineRoutes } from '../../src/server/pipelines/pipeline-routes.js';
import { eventually } from '../helpers/eventually.js';

const FAST = { maxAttempts: 1, backoffMs: 10, maxBackoffMs: 10, jitter: 0 };

async function server(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'mp-http-'));
  const backend = new SqliteQueueBackend({ dataDir: dir, eventPollMs: 10 });
  const state = { broken: false };
  const registry = new PipelineRegistry();
  registry.addBuilt(definePipeline('double', { retry: FAST, leaseMs: 1000 })
    .step('check', (x) => {
      if (state.broken) throw new Error('sink offline');
      return x;
    })
    .step('double', (x) => (x as number) * 2)
    .build());
  // Nobody serves 'parked': its runs stay queued, which makes the queue-full and cancel cases deterministic.
  registry.addBuilt(definePipeline('parked', { maxQueued: 1 }).step('noop', (x) => x).build());
  const metrics = new Registry();
  const stats = createPipelineMetrics(metrics, backend, () => registry.names());
  const service = new PipelineService({ backend, registry, stats });
  const worker = new PipelineWorker({ backend, registry, stats, pipelines: ['double'], idlePollMs: 10 });
  worker.start();
  const app = Fastify();
  registerPipelineRoutes(app, service);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  t.after(async () => {
    await app.close();
    await worker.stop({ drain: false });
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { base, state, metrics };
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

async function finished(base: string, pipeline: string, runId: string): Promise<{ state: string; result: unknown; steps: unknown[] }> {
  return eventually(async () => {
    const s = (await (await fetch(`${base}/v1/pipelines/${pipeline}/runs/${runId}`)).json()) as { state: string; result: unknown; steps: unknown[] };
    return ['completed', 'dead', 'cancelled'].includes(s.state) ? s : null;
  }, `run ${runId}`);
}

test('pipeline http: submits with an Idempotency-Key and reports per-step status', async (t) => {
  const { base, metrics } = await server(t);
  const r1 = await post(`${base}/v1/pipelines/double/runs`, { input: 21 }, { 'idempotency-key': 'job-1' });
  assert.equal(r1.status, 202);
  const b1 = (await r1.json()) as { runId: string; created: boolean };
  assert.equal(b1.created, true);
  const r2 = await post(`${base}/v1/pipelines/double/runs`, { input: 99 }, { 'idempotency-key': 'job-1' });
  assert.equal(r2.status, 200);
  assert.deepEqual(await r2.json(), { runId: b1.runId, created: false });
  const s = await finished(base, 'double', b1.runId);
  assert.equal(s.state, 'completed');
  assert.deepEqual(s.result, { double: 42 });
  assert.deepEqual(s.steps, [{ name: 'check', state: 'completed', items: null }, { name: 'double', state: 'completed', items: null }]);
  const text = await metrics.metrics();
  assert.match(text, /modelplane_pipeline_queue_runs\{pipeline="double",state="completed"\} 1/);
  assert.match(text, /modelplane_pipeline_run_deliveries_total\{pipeline="double",outcome="completed"\} 1/);
  assert.match(text, /modelplane_pipeline_step_duration_seconds_count\{pipeline="double",step="check",outcome="completed"\} 1/);
});

test('pipeline http: rejects bad input with 400 naming the field, unknown pipelines and runs with 404', async (t) => {
  const { base } = await server(t);
  const bad = await post(`${base}/v1/pipelines/double/runs`, { input: 1, priority: -3 });
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { error: string }).error, /priority/);
  const extra = await post(`${base}/v1/pipelines/double/runs`, { input: 1, prio: 1 });
  assert.equal(extra.status, 400);
  assert.match(((await extra.json()) as { error: string }).error, /prio/);
  const missing = await post(`${base}/v1/pipelines/nope/runs`, { input: 1 });
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), { error: "pipeline 'nope' not found" });
  const noRun = await fetch(`${base}/v1/pipelines/double/runs/does-not-exist`);
  assert.equal(noRun.status, 404);
});

test('pipeline http: answers 429 with Retry-After when the queue is full, and cancels a queued run', async (t) => {
  const { base } = await server(t);
  const first = await post(`${base}/v1/pipelines/parked/runs`, { input: 1 });
  assert.equal(first.status, 202);
  const full = await post(`${base}/v1/pipelines/parked/runs`, { input: 2 });
  assert.equal(full.status, 429);
  assert.equal(full.headers.get('retry-after'), '1');
  assert.match(((await full.json()) as { error: string }).error, /queue is full/);
  const { runId } = (await first.json()) as { runId: string };
  const cancel = await post(`${base}/v1/pipelines/parked/runs/${runId}/cancel`, {});
  assert.deepEqual(await cancel.json(), { runId, outcome: 'cancelled' });
  assert.equal((await post(`${base}/v1/pipelines/parked/runs`, { input: 3 })).status, 202, 'the cancelled run freed its slot');
});

test('pipeline http: streams progress as server-sent events until the run finishes', async (t) => {
  const { base } = await server(t);
  const { runId } = (await (await post(`${base}/v1/pipelines/double/runs`, { input: 5, delayMs: 200 })).json()) as { runId: string };
  const res = await fetch(`${base}/v1/pipelines/double/runs/${runId}/events`);
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const text = await res.text(); // the server ends the stream after the terminal event
  const events = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
  assert.equal(events[0], 'status');
  assert.equal(events.at(-1), 'completed');
  assert.deepEqual(events.filter((e) => e === 'progress').length, 2);
});

test('pipeline http: lists the dead-letter queue and redrives a run', async (t) => {
  const { base, state } = await server(t);
  state.broken = true;
  const { runId } = (await (await post(`${base}/v1/pipelines/double/runs`, { input: 4 })).json()) as { runId: string };
  assert.equal((await finished(base, 'double', runId)).state, 'dead');
  const dlq = (await (await fetch(`${base}/v1/pipelines/double/dlq?limit=10`)).json()) as { runs: { id: string; error: string }[] };
  assert.deepEqual(dlq.runs.map((r) => [r.id, r.error]), [[runId, 'sink offline']]);
  assert.equal((await fetch(`${base}/v1/pipelines/double/dlq?limit=0`)).status, 400);
  state.broken = false;
  assert.deepEqual(await (await post(`${base}/v1/pipelines/double/dlq/redrive`, { runId })).json(), { redriven: 1 });
  assert.equal((await finished(base, 'double', runId)).state, 'completed');
  const info = (await (await fetch(`${base}/v1/pipelines/double`)).json()) as { definition: { steps: { name: string }[] }; depth: { completed: number; dead: number } };
  assert.deepEqual([info.depth.completed, info.depth.dead], [1, 0]);
  assert.deepEqual(info.definition.steps.map((x) => x.name), ['check', 'double']);
  assert.deepEqual(await (await fetch(`${base}/v1/pipelines`)).json(), { pipelines: ['double', 'parked'] });
});
