import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WeightedSplit, unitHash } from '../../../src/routing/weighted-split.js';

test('weighted split: keyed picks follow the weights and raising a weight only moves keys toward it', () => {
  const keys = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);
  const at = (weight: number) => new WeightedSplit([{ version: 1, weight: 100 - weight }, { version: 2, weight }]);
  for (const w of [5, 25, 50]) {
    const share = keys.filter((k) => at(w).pick(k).version === 2).length / keys.length;
    assert.ok(Math.abs(share - w / 100) < 0.015, `${w}%: got ${(share * 100).toFixed(2)}%`);
  }
  const small = at(5);
  const large = at(25);
  for (const k of keys) if (small.pick(k).version === 2) assert.equal(large.pick(k).version, 2, `${k} stays on the candidate`);
});

test('weighted split: zero weights never win; hashes stay in [0, 1)', () => {
  const s = new WeightedSplit([{ version: 1, weight: 0 }, { version: 7, weight: 3 }]);
  for (let i = 0; i < 1000; i++) assert.equal(s.pick(`k${i}`).version, 7);
  for (let i = 0; i < 1000; i++) {
    const u = unitHash(String(i));
    assert.ok(u >= 0 && u < 1);
  }
});
