import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { startApp } from '../../src/app.js';
import { CONFIDENCE_BUCKETS } from '../../src/scheduler/histogram.js';
import { buildMlpModel } from '../../scripts/lib/mlp-model.js';
import { parsePrometheusText, promtoolCheck, sampleValue, type PromSample } from '../helpers/prometheus-text.js';

const FEATURES = 8;
const MLP = buildMlpModel({ features: FEATURES, hidden: [16], classes: 3, seed: 11 });
const V = { model: 'mlp', version: '1' };

async function serve(t: { after(fn: () => unknown): void }) {
  const root = mkdtempSync(join(tmpdir(), 'mp-metrics-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'mlp', '1'), { recursive: true });
  writeFileSync(join(root, 'mlp', '1', 'model.onnx'), MLP);
  writeFileSync(join(root, 'mlp', 'config.json'), JSON.stringify({
    name: 'mlp',
    max_batch_size: 32,
    inputs: [{ name: 'input', datatype: 'FP32', dims: [FEATURES] }],
    outputs: [
      { name: 'logits', datatype: 'FP32', dims: [3], confidence: 'logits' },
      { name: 'probabilities', datatype: 'FP32', dims: [3], confidence: 'probabilities' },
      { name: 'label', datatype: 'INT64', dims: [] },
    ],
    dynamic_batching: { max_queue_delay_us: 20_000 },
  }));
  const app = await startApp({ repository: root, host: '127.0.0.1', port: 0, bodyLimitBytes: 1 << 20, logger: false });
  t.after(() => app.close());
  return app;
}

function row(i: number): number[] {
  return Array.from({ length: FEATURES }, (_, j) => Math.sin(i * 7.3 + j) * 3);
}

async function scrape(url: string): Promise<{ text: string; samples: PromSample[] }> {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/plain; version=0\.0\.4/);
  const text = await res.text();
  return { text, samples: parsePrometheusText(text) };
}

/** The histogram's per-bucket (not cumulative) counts, in bound order, +Inf last. */
function bucketCounts(samples: readonly PromSample[], name: string, labels: Record<string, string>): number[] {
  const cumulative = [...CONFIDENCE_BUCKETS.map(String), '+Inf'].map((le) => sampleValue(samples, `${name}_bucket`, { ...labels, le })!);
  return cumulative.map((c, i) => c - (i === 0 ? 0 : cumulative[i - 1]!));
}

test('metrics: /metrics passes promtool, counts every request, shows batching and agrees with /v2 statistics', async (t) => {
  const app = await serve(t);
  const N = 100;
  // Half the requests ask only for the label: the scored outputs are computed and observed anyway.
  const results = await Promise.all(Array.from({ length: N }, async (_, i) => {
    const res = await fetch(`${app.url}/v2/models/mlp/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, FEATURES], data: row(i) }], ...(i % 2 ? { outputs: [{ name: 'label' }] } : {}) }),
    });
    await res.arrayBuffer();
    return res.status;
  }));
  assert.deepEqual(new Set(results), new Set([200]));
  // Bad requests for a known model: broken JSON (3) and a wrong shape (1).
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${app.url}/v2/models/mlp/infer`, { method: 'POST', body: '{', headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 400);
  }
  const wrongShape = await fetch(`${app.url}/v2/models/mlp/infer`, { method: 'POST', body: JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] }) });
  assert.equal(wrongShape.status, 400);

  const { text, samples } = await scrape(app.url);
  const lint = await promtoolCheck(text);
  assert.equal(lint.code, 0, lint.output);
  assert.equal(lint.output.trim(), '', `promtool found problems:\n${lint.output}`);

  const executions = sampleValue(samples, 'modelplane_inference_exec_count_total', V)!;
  assert.equal(sampleValue(samples, 'modelplane_inference_count_total', V), N);
  assert.ok(executions > 0 && executions < N, `batched: ${executions} executions for ${N} requests`);
  assert.equal(sampleValue(samples, 'modelplane_inference_request_success_total', V), N);
  assert.equal(sampleValue(samples, 'modelplane_inference_request_failure_total', { ...V, reason: 'bad_request' }), 4);
  assert.equal(sampleValue(samples, 'modelplane_inference_request_duration_seconds_count', V), N);
  assert.equal(sampleValue(samples, 'modelplane_inference_queue_duration_seconds_count', V), N);
  for (const phase of ['input', 'infer', 'output']) {
    assert.equal(sampleValue(samples, `modelplane_inference_compute_${phase}_duration_seconds_count`, V), executions, phase);
  }
  assert.equal(sampleValue(samples, 'modelplane_batch_size_count', V), executions);
  assert.equal(sampleValue(samples, 'modelplane_batch_size_sum', V), N);
  assert.equal(sampleValue(samples, 'modelplane_queue_depth', V), 0);
  assert.equal(sampleValue(samples, 'modelplane_inflight_requests', V), 0);
  assert.equal(sampleValue(samples, 'modelplane_model_state', { ...V, state: 'READY' }), 1);
  assert.ok(sampleValue(samples, 'modelplane_model_load_duration_seconds', V)! > 0);
  for (const name of ['modelplane_process_cpu_seconds_total', 'modelplane_process_resident_memory_bytes']) {
    assert.ok(sampleValue(samples, name)! > 0, name);
  }
  assert.ok(samples.some((s) => s.name === 'modelplane_nodejs_eventloop_lag_seconds'), 'event-loop lag');
  assert.ok(samples.every((s) => !('id' in s.labels) && !('request_id' in s.labels)), 'no per-request labels');

  // The statistics extension reports the same numbers.
  const stats = ((await (await fetch(`${app.url}/v2/models/mlp/versions/1/stats`)).json()) as { model_stats: Array<Record<string, never>> }).model_stats[0]! as unknown as {
    inference_count: number; execution_count: number;
    inference_stats: Record<'success' | 'fail' | 'queue' | 'compute_input' | 'compute_infer' | 'compute_output', { count: number; ns: number }>;
  };
  assert.equal(stats.inference_count, N);
  assert.equal(stats.execution_count, executions);
  assert.equal(stats.inference_stats.success.count, N);
  assert.equal(stats.inference_stats.fail.count, 4);
  assert.equal(stats.inference_stats.queue.count, N);
  assert.equal(stats.inference_stats.compute_infer.count, executions);
  const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-6, `${what}: ${a} vs ${b}`);
  close(stats.inference_stats.success.ns / 1e9, sampleValue(samples, 'modelplane_inference_request_duration_seconds_sum', V)!, 'request duration');
  close(stats.inference_stats.queue.ns / 1e9, sampleValue(samples, 'modelplane_inference_queue_duration_seconds_sum', V)!, 'queue duration');
  close(stats.inference_stats.compute_infer.ns / 1e9, sampleValue(samples, 'modelplane_inference_compute_infer_duration_seconds_sum', V)!, 'compute infer');

  // Confidence: the top-1 probability of every row, as in-process ONNX Runtime computes it.
  const session = await ort.InferenceSession.create(MLP);
  const input = new ort.Tensor('float32', Float32Array.from(Array.from({ length: N }, (_, i) => row(i)).flat()), [N, FEATURES]);
  const probabilities = (await session.run({ input }, ['probabilities'])).probabilities!.data as Float32Array;
  const expected = new Array<number>(CONFIDENCE_BUCKETS.length + 1).fill(0);
  for (let i = 0; i < N; i++) {
    const top = Math.max(...probabilities.subarray(i * 3, i * 3 + 3));
    expected[CONFIDENCE_BUCKETS.findIndex((b) => top <= b)]!++;
  }
  assert.deepEqual(bucketCounts(samples, 'modelplane_output_confidence', { ...V, output: 'probabilities' }), expected);
  assert.equal(sampleValue(samples, 'modelplane_output_confidence_count', { ...V, output: 'logits' }), N);
  close(sampleValue(samples, 'modelplane_output_confidence_sum', { ...V, output: 'logits' })! / N,
    sampleValue(samples, 'modelplane_output_confidence_sum', { ...V, output: 'probabilities' })! / N, 'softmax(logits) top-1 = probabilities top-1');
  await session.release();

  let hasGpu = true;
  try {
    execFileSync('nvidia-smi', ['-L'], { stdio: 'ignore' });
  } catch {
    hasGpu = false;
  }
  if (!hasGpu) assert.ok(!text.includes('modelplane_gpu_'), 'no GPU: GPU metrics are absent, not zero');
});

test('metrics: --no-metrics (metrics: false) serves no /metrics', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'mp-metrics-off-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const app = await startApp({ repository: root, host: '127.0.0.1', port: 0, bodyLimitBytes: 1 << 20, logger: false, metrics: false });
  t.after(() => app.close());
  assert.equal((await fetch(`${app.url}/metrics`)).status, 404);
});
