import assert from 'node:assert/strict';
import { test } from 'node:test';
import { call, tempDir } from '../../helpers/search-server.js';
import { startCli } from '../../helpers/start-server.js';
import { Prng } from '../../helpers/prng.js';

const DIM = 32;

function vectorOf(i: number): number[] {
  const p = new Prng(1000 + i);
  return Array.from({ length: DIM }, () => p.next() - 0.5);
}

test('collections: kill -9 during upserts loses no acknowledged document and duplicates none', async (t) => {
  const dataDir = await tempDir(t);
  const repository = await tempDir(t, 'mp-repo-');
  const first = await startCli(t, repository, ['--data-dir', dataDir]);
  assert.equal((await call(first.url, 'POST', '/v1/collections', { name: 'crash', dimension: DIM })).status, 201);

  // Four writers upsert batches of 20 until the server dies; only 200s count as acknowledged.
  const acked = new Set<number>();
  const sent = new Set<number>();
  let next = 0;
  let dead = false;
  const writer = async (): Promise<void> => {
    while (!dead) {
      const ids = Array.from({ length: 20 }, () => next++);
      ids.forEach((i) => sent.add(i));
      try {
        const r = await call(first.url, 'POST', '/v1/collections/crash/documents', {
          documents: ids.map((i) => ({ id: `doc-${i}`, vector: vectorOf(i), text: `document number ${i}`, payload: { i } })),
        });
        if (r.status === 200) ids.forEach((i) => acked.add(i));
      } catch {
        dead = true; // connection refused or reset: the server is gone
      }
    }
  };
  const writers = [writer(), writer(), writer(), writer()];
  while (acked.size < 600) await new Promise((r) => setTimeout(r, 5));
  first.child.kill('SIGKILL');
  dead = true;
  await Promise.all(writers);
  await first.exited;
  assert.ok(acked.size >= 600);

  const second = await startCli(t, repository, ['--data-dir', dataDir]);
  const info = await call(second.url, 'GET', '/v1/collections/crash');
  assert.equal(info.status, 200);
  // Every acknowledged document is there; nothing beyond what was sent is.
  assert.ok(info.body.documents >= acked.size && info.body.documents <= sent.size, `${info.body.documents} documents, ${acked.size} acked, ${sent.size} sent`);
  for (const i of acked) {
    const got = await call(second.url, 'GET', `/v1/collections/crash/documents/doc-${i}`);
    assert.equal(got.status, 200, `doc-${i} acknowledged but missing`);
    assert.deepEqual(got.body.payload, { i });
  }
  // Searchable through the rebuilt index (vector) and the text index.
  for (const i of [...acked].slice(0, 50)) {
    const s = await call(second.url, 'POST', '/v1/collections/crash/search', { vector: vectorOf(i), k: 1 });
    assert.equal(s.body.hits[0].id, `doc-${i}`);
  }
  const text = await call(second.url, 'POST', '/v1/collections/crash/search', { text: `number ${[...acked][7]}`, mode: 'text', k: 1 });
  assert.equal(text.body.hits[0].id, `doc-${[...acked][7]}`);

  // Replaying every batch (a client retrying what it never saw acknowledged) duplicates nothing.
  const all = [...sent];
  for (let s = 0; s < all.length; s += 200) {
    const r = await call(second.url, 'POST', '/v1/collections/crash/documents', {
      documents: all.slice(s, s + 200).map((i) => ({ id: `doc-${i}`, vector: vectorOf(i), payload: { i } })),
    });
    assert.equal(r.status, 200);
  }
  assert.equal((await call(second.url, 'GET', '/v1/collections/crash')).body.documents, sent.size);
  const s = await call(second.url, 'POST', '/v1/collections/crash/search', { vector: vectorOf(3), k: 50 });
  const ids = s.body.hits.map((h: { id: string }) => h.id);
  assert.equal(new Set(ids).size, ids.length);
});
