import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServingContext } from '../../../src/lifecycle/serving-context.js';
import { batchLayout } from '../../../src/scheduler/batch-assembler.js';
import type { TensorMap } from '../../../src/tensor/tensor.js';
import { flush, harness } from './harness.js';

/** A harness whose requests cost `tokens` each, declared by an admission as a text model's would. */
function tokenHarness(maxBatchTokens: number, maxBatchSize = 8) {
  const h = harness({ max_batch_size: maxBatchSize, dynamic_batching: { max_batch_tokens: maxBatchTokens } });
  const tokensOf = new WeakMap<TensorMap, number>();
  const ctx = new ServingContext('echo', 1, h.config, 'echo', h.batcher, batchLayout(h.config), h.pool, undefined, undefined, {
    admit: (inputs) => tokensOf.get(inputs)!,
  });
  const submit = (tag: number, tokens: number) => {
    const inputs: TensorMap = new Map([['x', { name: 'x', datatype: 'FP32', shape: [1, 2], data: new Float32Array([tag, tag]) }]]);
    tokensOf.set(inputs, tokens);
    return ctx.infer(inputs);
  };
  return { ...h, submit };
}

test('scheduler: max_batch_tokens closes a batch before the next request would pass the budget', async () => {
  const h = tokenHarness(100);
  const done = [h.submit(1, 10), h.submit(2, 60), h.submit(3, 30), h.submit(4, 20), h.submit(5, 90), h.submit(6, 5)];
  // 1 runs alone (the instance was idle); then 60 + 30 fit in 100, 60 + 30 + 20 would not.
  h.instances[0]!.finishNext();
  await flush();
  assert.deepEqual(h.batchTags(), [[1], [2, 3]]);
  h.instances[0]!.finishNext();
  await flush();
  assert.deepEqual(h.batchTags().slice(2), [[4]]);
  h.instances[0]!.finishNext();
  await flush();
  assert.deepEqual(h.batchTags().slice(3), [[5, 6]]);
  h.instances[0]!.finishNext();
  await Promise.all(done);
});

test('scheduler: a request over the token budget by itself still runs, alone', async () => {
  const h = tokenHarness(50);
  const done = [h.submit(1, 1), h.submit(2, 500), h.submit(3, 1)];
  h.instances[0]!.finishNext();
  await flush();
  assert.deepEqual(h.batchTags(), [[1], [2]]);
  h.instances[0]!.finishNext();
  await flush();
  h.instances[0]!.finishNext();
  await Promise.all(done);
  assert.deepEqual(h.batchTags(), [[1], [2], [3]]);
});

test('scheduler: without max_batch_tokens, token counts do not limit the batch', async () => {
  const h = tokenHarness(0);
  const done = [h.submit(1, 1), h.submit(2, 1000), h.submit(3, 1000)];
  h.instances[0]!.finishNext();
  await flush();
  assert.deepEqual(h.batchTags(), [[1], [2, 3]]);
  h.instances[0]!.finishNext();
  await Promise.all(done);
});
