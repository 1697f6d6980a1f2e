import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planBatches } from '../../../src/search/embed-batches.js';

test('embed batches: every text once, shortest first, each call within count x longest <= budget', () => {
  const lengths = [40, 5, 90, 5, 12, 300, 33, 7, 60, 8, 8, 21];
  const batches = planBatches(lengths, 100, 64);
  assert.deepEqual(batches.flat().sort((a, b) => a - b), lengths.map((_, i) => i));
  const order = batches.flat().map((i) => lengths[i]!);
  assert.deepEqual(order, [...order].sort((a, b) => a - b), 'calls run in ascending length');
  for (const b of batches) {
    const longest = Math.max(...b.map((i) => lengths[i]!));
    if (b.length > 1) assert.ok(b.length * longest <= 100, `call ${JSON.stringify(b)} pads to ${b.length * longest}`);
  }
  // Ties (5, 5 and 8, 8) keep arrival order; 7 x 21 = 147 > 100 cuts the first call; 300 goes alone.
  assert.deepEqual(batches, [[1, 3, 7, 9, 10, 4], [11, 6], [0], [8], [2], [5]]);
});

test('embed batches: greedy cut, max texts per call, empty input', () => {
  // 6 x 10 = 60 > 50: the sixth text of length 10 starts a new call.
  assert.deepEqual(planBatches([10, 10, 10, 10, 10, 10, 10], 50, 64), [[0, 1, 2, 3, 4], [5, 6]]);
  assert.deepEqual(planBatches([1, 1, 1, 1, 1], 1000, 2), [[0, 1], [2, 3], [4]]);
  assert.deepEqual(planBatches([3, 1, 2], 1000, 64), [[1, 2, 0]]);
  assert.deepEqual(planBatches([], 1000, 64), []);
  // Empty texts count as length 1, so they still bound the call.
  assert.deepEqual(planBatches([0, 0, 0], 2, 64), [[0, 1], [2]]);
});
