import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CollectionManager } from '../../../src/search/collection-manager.js';
import { Prng } from '../../helpers/prng.js';
import { tempDir } from '../../helpers/search-server.js';

const DIM = 16;
function vectorOf(i: number): number[] {
  const p = new Prng(7 + i);
  return Array.from({ length: DIM }, () => p.next() - 0.5);
}
const docs = (ids: number[], shift = 0): { documents: { id: string; vector: number[]; payload: { i: number } }[] } => ({
  documents: ids.map((i) => ({ id: `d${i}`, vector: vectorOf(i + shift), payload: { i } })),
});

async function assertConsistent(m: CollectionManager, live: Map<string, number>): Promise<void> {
  assert.equal(m.info('c').documents, live.size);
  for (const [id, v] of live) {
    const hits = await m.search('c', { vector: vectorOf(v), k: 1 });
    assert.equal(hits[0]!.id, id, `${id} not found by its own vector`);
  }
}

test('collections: a closed collection reopens from its index checkpoint and replays what came after a later crash', async (t) => {
  const dir = await tempDir(t);
  const live = new Map<string, number>();
  const first = new CollectionManager(dir);
  first.create({ name: 'c', dimension: DIM });
  await first.upsert('c', docs([...Array(300).keys()]));
  for (let i = 0; i < 300; i++) live.set(`d${i}`, i);
  first.deleteDocuments('c', { ids: ['d0', 'd1'] });
  live.delete('d0');
  live.delete('d1');
  first.close(); // graceful: writes the checkpoint
  assert.equal(readdirSync(join(dir, 'collections', 'c.hnsw')).filter((f) => f.endsWith('.hnsw')).length, 1);

  const second = new CollectionManager(dir);
  assert.deepEqual(second.collection('c').opened, { from: 'checkpoint', replayed: 0 });
  await assertConsistent(second, live);
  // After the checkpoint: new documents, replaced vectors and deletions, then a "crash" (no close).
  await second.upsert('c', docs([300, 301, 302]));
  [300, 301, 302].forEach((i) => live.set(`d${i}`, i));
  await second.upsert('c', docs([10, 11], 1000));
  live.set('d10', 1010);
  live.set('d11', 1011);
  second.deleteDocuments('c', { ids: ['d20', 'd301'] });
  live.delete('d20');
  live.delete('d301');

  const third = new CollectionManager(dir); // opens the same files, as a restarted process would
  t.after(() => third.close());
  const opened = third.collection('c').opened;
  assert.equal(opened.from, 'checkpoint');
  // Added: d300, d302 and the new versions of d10, d11 (d301 came and went after the checkpoint: never replayed);
  // removed from the saved graph: the old versions of d10, d11, and d20.
  assert.equal(opened.replayed, 4 + 3);
  await assertConsistent(third, live);
  assert.equal((await third.search('c', { vector: vectorOf(20), k: 300 })).filter((h) => h.id === 'd20').length, 0);
});

test('collections: an unreadable checkpoint falls back to a rebuild', async (t) => {
  const dir = await tempDir(t);
  const m = new CollectionManager(dir);
  m.create({ name: 'c', dimension: DIM });
  await m.upsert('c', docs([1, 2, 3]));
  m.close();
  const cpDir = join(dir, 'collections', 'c.hnsw');
  const [file] = readdirSync(cpDir);
  writeFileSync(join(cpDir, file!), 'not an index');
  const again = new CollectionManager(dir);
  t.after(() => again.close());
  assert.deepEqual(again.collection('c').opened, { from: 'rebuild', replayed: 3 });
  await assertConsistent(again, new Map([['d1', 1], ['d2', 2], ['d3', 3]]));
});
