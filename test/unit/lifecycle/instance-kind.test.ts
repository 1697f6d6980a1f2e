import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelConfigSchema } from '../../../src/config/model-config.js';
import { AUTO_INLINE_MAX_MS, autoNeedsThread, largestBatchInputs, resolveInstanceKind } from '../../../src/lifecycle/instance-kind.js';
import type { ModelInstance } from '../../../src/runtime/backend.js';
import type { TensorMap } from '../../../src/tensor/tensor.js';

const base = {
  name: 'm', max_batch_size: 16,
  inputs: [{ name: 'x', datatype: 'FP32', dims: [8] }],
  outputs: [{ name: 'y', datatype: 'FP32', dims: [8] }],
};

/** An instance whose every run takes `ms` of wall time and records the batch it was given. */
function timedInstance(ms: number): ModelInstance & { batches: number[] } {
  const batches: number[] = [];
  return {
    batches,
    signature: { inputs: [], outputs: [] },
    async run(inputs: TensorMap) {
      batches.push(inputs.get('x')!.shape[0]!);
      const until = performance.now() + ms;
      while (performance.now() < until) await new Promise((resolve) => setImmediate(resolve));
      return new Map();
    },
    async release() {},
  };
}

test('instance_kind defaults to auto; auto times the largest batch: inline under the bound, a thread above it', async () => {
  const config = ModelConfigSchema.parse(base);
  assert.equal(config.instance_kind, 'auto');

  const quick = timedInstance(0);
  assert.equal((await resolveInstanceKind(config, quick)).kind, 'inline');
  assert.deepEqual(quick.batches, [16, 16, 16], 'three runs of max_batch_size rows');

  const slow = timedInstance(AUTO_INLINE_MAX_MS * 3);
  const resolved = await resolveInstanceKind(config, slow);
  assert.equal(resolved.kind, 'worker');
  assert.ok(resolved.largestBatchMs! >= AUTO_INLINE_MAX_MS * 3);
});

test('auto stays in a thread when a timed run would not stand for real requests, or the config asks for threads', async () => {
  const cases: Array<[object, RegExp]> = [
    [{ inputs: [{ name: 'x', datatype: 'FP32', dims: [3, -1] }] }, /variable dimension/],
    [{ inputs: [{ name: 'x', datatype: 'BYTES', dims: [1] }] }, /BYTES/],
    [{ instance_count: 2 }, /instance_count/],
    [{ instance_cpus: '1' }, /instance_cpus/],
  ];
  for (const [override, reason] of cases) {
    const config = ModelConfigSchema.parse({ ...base, ...override });
    assert.match(autoNeedsThread(config) ?? '', reason);
    const instance = timedInstance(0);
    assert.equal((await resolveInstanceKind(config, instance)).kind, 'worker');
    assert.deepEqual(instance.batches, [], 'nothing was run to decide');
  }
  // A variable dimension with warm-up dims given is timed at those dims.
  const sized = ModelConfigSchema.parse({ ...base, inputs: [{ name: 'x', datatype: 'FP32', dims: [-1] }], warmup: { inputs: { x: { dims: [64] } } } });
  assert.equal(autoNeedsThread(sized), undefined);
  assert.deepEqual(largestBatchInputs(sized).get('x')!.shape, [16, 64]);
  // An explicit kind is kept without a run.
  const explicit = timedInstance(0);
  assert.equal((await resolveInstanceKind(ModelConfigSchema.parse({ ...base, instance_kind: 'worker' }), explicit)).kind, 'worker');
  assert.deepEqual(explicit.batches, []);
});
