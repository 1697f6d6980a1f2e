import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { FixedHistogram } from '../../../src/scheduler/histogram.js';
import { failureReason, ModelStatistics } from '../../../src/scheduler/model-statistics.js';
import { OutputConfidence } from '../../../src/scheduler/output-confidence.js';
import { toHalfBits } from '../../../src/tensor/fp16.js';
import { parseNvidiaSmi, registerGpuMetrics } from '../../../src/telemetry/gpu-metrics.js';
import { parsePrometheusText, promtoolCheck, sampleValue } from '../../helpers/prometheus-text.js';

test('histogram: each value lands in the first bucket whose bound is >= it; +Inf takes the rest', () => {
  const h = new FixedHistogram([1, 2, 5]);
  for (const v of [0, 1, 1.5, 2, 5, 5.0001, 100]) h.observe(v);
  assert.deepEqual([...h.counts], [2, 2, 1, 2]);
  assert.equal(h.count, 7);
  assert.equal(h.sum, 0 + 1 + 1.5 + 2 + 5 + 5.0001 + 100);
  assert.throws(() => new FixedHistogram([1, 1]), /increase/);
});

test('output confidence: top-1 of probabilities, softmax top-1 of logits, per row of any rank, FP16 too', () => {
  const c = new OutputConfidence([{ name: 'p', kind: 'probabilities' }, { name: 'l', kind: 'logits' }, { name: 'h', kind: 'probabilities' }]);
  c.observe(new Map([
    ['p', { name: 'p', datatype: 'FP32' as const, shape: [2, 3], data: Float32Array.from([0.2, 0.7, 0.1, 0.05, 0.05, 0.9]) }],
    // Logits [0, 0] -> 0.5; [1000, 0] -> 1 (stable for huge logits); a [1, 2, 2] tensor has two rows.
    ['l', { name: 'l', datatype: 'FP64' as const, shape: [1, 2, 2], data: Float64Array.from([0, 0, 1000, 0]) }],
    ['h', { name: 'h', datatype: 'FP16' as const, shape: [1, 2], data: Uint16Array.from([toHalfBits(0.25), toHalfBits(0.75)]) }],
  ]));
  const p = c.histograms.get('p')!;
  assert.equal(p.count, 2);
  assert.ok(Math.abs(p.sum - 1.6) < 1e-6);
  const l = c.histograms.get('l')!;
  assert.equal(l.count, 2);
  assert.ok(Math.abs(l.sum - 1.5) < 1e-12, String(l.sum));
  assert.equal(c.histograms.get('h')!.sum, 0.75);
});

test('statistics: failures are bucketed into a bounded set of reasons', () => {
  assert.equal(failureReason('MP_INVALID_ARG'), 'bad_request');
  assert.equal(failureReason('MP_OVERLOADED'), 'rejected');
  assert.equal(failureReason('MP_QUEUE_TIMEOUT'), 'timeout');
  assert.equal(failureReason('MP_CANCELLED'), 'cancelled');
  assert.equal(failureReason('MP_BACKEND'), 'internal');
  const s = new ModelStatistics();
  s.requestFailed(10, 'MP_OVERLOADED');
  s.requestFailed(10, 'MP_OVERLOADED');
  s.requestFailed(10, 'MP_INVALID_ARG');
  const json = s.toJSON('m', 1) as { failures: Record<string, number>; rejected: Record<string, number>; inference_stats: { fail: { count: number; ns: number } } };
  assert.deepEqual(json.failures, { rejected: 2, bad_request: 1 });
  assert.deepEqual(json.rejected, { MP_OVERLOADED: 2 });
  assert.deepEqual(json.inference_stats.fail, { count: 3, ns: 30_000 });
});

test('GPU metrics: parsed from nvidia-smi CSV; unsupported cells leave a GPU out', () => {
  const readings = parseNvidiaSmi('0, NVIDIA A10G, 37, 1024, 23028\n1, NVIDIA A10G, [N/A], 10, 23028\n\n');
  assert.deepEqual(readings, [{ gpu: '0', name: 'NVIDIA A10G', utilization: 0.37, memoryUsedBytes: 1024 * 2 ** 20, memoryTotalBytes: 23028 * 2 ** 20 }]);
});

test('GPU metrics: registered from a working nvidia-smi (a stand-in script here), absent when the command is missing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mp-gpu-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fake = join(dir, 'nvidia-smi');
  writeFileSync(fake, '#!/bin/sh\necho "0, Tesla T4, 81, 2048, 15360"\n');
  chmodSync(fake, 0o755);
  const registry = new Registry();
  assert.equal(await registerGpuMetrics(registry, fake), true);
  const text = await registry.metrics();
  const samples = parsePrometheusText(text);
  assert.equal(sampleValue(samples, 'modelplane_gpu_utilization_ratio', { gpu: '0' }), 0.81);
  assert.equal(sampleValue(samples, 'modelplane_gpu_memory_used_bytes', { gpu: '0' }), 2048 * 2 ** 20);
  assert.equal(sampleValue(samples, 'modelplane_gpu_memory_total_bytes', { gpu: '0', name: 'Tesla T4' }), 15360 * 2 ** 20);
  const lint = await promtoolCheck(text);
  assert.equal(lint.code, 0, lint.output);

  const none = new Registry();
  assert.equal(await registerGpuMetrics(none, join(dir, 'no-such-command')), false);
  assert.equal((await none.metrics()).trim(), '');
});
