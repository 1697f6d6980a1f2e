import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffSnapshots, type ModelFingerprint } from '../../../src/repository/repository-diff.js';
import type { ModelEntry } from '../../../src/repository/model-repository.js';

function fp(name: string, versions: Record<number, string>, configKey = 'c', onDisk?: number[]): ModelFingerprint {
  const selected = Object.keys(versions).map(Number).sort((a, b) => b - a);
  const entry: ModelEntry = { name, dir: `/r/${name}`, config: undefined, batchSizeGiven: false, configPath: undefined, error: undefined, versions: selected, onDisk: onDisk ?? selected };
  return { entry, configKey, versions: new Map(Object.entries(versions).map(([v, s]) => [Number(v), s])), diskKey: (onDisk ?? selected).join(',') };
}

test('repository diff: new, removed and changed versions, config changes and removed models', () => {
  const before = new Map([
    ['same', fp('same', { 1: 'a' })],
    ['grow', fp('grow', { 1: 'a' })],
    ['edit', fp('edit', { 1: 'a', 2: 'b' })],
    ['conf', fp('conf', { 1: 'a', 2: 'b' })],
    ['gone', fp('gone', { 1: 'a' })],
    ['kept', fp('kept', { 3: 'x' }, 'c', [3, 2])],
  ]);
  const after = new Map([
    ['same', fp('same', { 1: 'a' })],
    ['grow', fp('grow', { 2: 'n' })],
    ['edit', fp('edit', { 1: 'a', 2: 'B' })],
    ['conf', fp('conf', { 1: 'a', 2: 'b' }, 'c2')],
    ['kept', fp('kept', { 3: 'x' }, 'c', [3])],
    ['fresh', fp('fresh', { 4: 'z' })],
  ]);
  const diff = diffSnapshots(before, after);
  assert.deepEqual(diff.removed, ['gone']);
  const byModel = new Map(diff.changed.map((c) => [c.model, c]));
  assert.equal(byModel.has('same'), false, 'an unchanged model needs nothing');
  assert.deepEqual([byModel.get('grow')!.load, byModel.get('grow')!.retire], [[2], [1]]);
  assert.deepEqual([byModel.get('edit')!.load, byModel.get('edit')!.retire, byModel.get('edit')!.configChanged], [[2], [], false]);
  assert.deepEqual([byModel.get('conf')!.load, byModel.get('conf')!.configChanged], [[2, 1], true], 'a config change reloads every version');
  assert.deepEqual(byModel.get('kept')!.load, [], 'a version gone from disk (not selected) is still a change to look at');
  assert.deepEqual(byModel.get('fresh')!.load, [4]);
});
