import assert from 'node:assert/strict';
import { test } from 'node:test';
import { call, startSearchServer } from '../../helpers/search-server.js';
import { Prng } from '../../helpers/prng.js';

function randomVectors(n: number, d: number, seed: number): number[][] {
  const p = new Prng(seed);
  const rnd = (): number => p.next();
  return Array.from({ length: n }, () => Array.from({ length: d }, () => rnd() - 0.5));
}

test('collections: lifecycle, upsert, get, search, delete over HTTP', async (t) => {
  const { url } = await startSearchServer(t);
  assert.equal((await call(url, 'POST', '/v1/collections', { name: 'docs', dimension: 8 })).status, 201);
  assert.equal((await call(url, 'POST', '/v1/collections', { name: 'docs', dimension: 8 })).status, 409);
  const vs = randomVectors(200, 8, 1);
  const documents = vs.map((vector, i) => ({ id: `d${i}`, vector, payload: { n: i, parity: i % 2 === 0 ? 'even' : 'odd' } }));
  const up = await call(url, 'POST', '/v1/collections/docs/documents', { documents });
  assert.equal(up.status, 200, JSON.stringify(up.body));
  assert.equal(up.body.upserted, 200);
  const list = await call(url, 'GET', '/v1/collections');
  assert.deepEqual(list.body.collections.map((c: { name: string; documents: number }) => [c.name, c.documents]), [['docs', 200]]);

  const got = await call(url, 'GET', '/v1/collections/docs/documents/d7');
  assert.equal(got.status, 200);
  assert.deepEqual(got.body.payload, { n: 7, parity: 'odd' });

  // A stored vector finds itself first.
  const s = await call(url, 'POST', '/v1/collections/docs/search', { vector: vs[42], k: 5 });
  assert.equal(s.status, 200);
  assert.equal(s.body.hits[0].id, 'd42');
  assert.ok(Math.abs(s.body.hits[0].score - 1) < 1e-4);
  assert.equal(s.body.hits.length, 5);

  // Re-upsert replaces (no duplicate), delete removes.
  await call(url, 'POST', '/v1/collections/docs/documents', { documents: [{ id: 'd42', vector: vs[0], payload: { n: 42, moved: true } }] });
  const again = await call(url, 'POST', '/v1/collections/docs/search', { vector: vs[0], k: 3 });
  assert.deepEqual(new Set(again.body.hits.slice(0, 2).map((h: { id: string }) => h.id)), new Set(['d0', 'd42']));
  assert.equal((await call(url, 'GET', '/v1/collections/docs')).body.documents, 200);
  assert.equal((await call(url, 'DELETE', '/v1/collections/docs/documents/d0')).body.deleted, 1);
  const after = await call(url, 'POST', '/v1/collections/docs/search', { vector: vs[0], k: 3 });
  assert.equal(after.body.hits[0].id, 'd42');
  assert.ok(!after.body.hits.some((h: { id: string }) => h.id === 'd0'));
  assert.equal((await call(url, 'GET', '/v1/collections/docs/documents/d0')).status, 404);

  assert.equal((await call(url, 'DELETE', '/v1/collections/docs')).status, 200);
  assert.equal((await call(url, 'POST', '/v1/collections/docs/search', { vector: vs[0] })).status, 404);
});

test('collections: payload filters (equality, ranges, in) give exactly the matching nearest documents', async (t) => {
  const { url } = await startSearchServer(t);
  await call(url, 'POST', '/v1/collections', { name: 'f', dimension: 16, metric: 'l2' });
  const vs = randomVectors(6000, 16, 2);
  for (let s = 0; s < vs.length; s += 2000) {
    const documents = vs.slice(s, s + 2000).map((vector, j) => {
      const i = s + j;
      return { id: `d${i}`, vector, payload: { n: i, tag: ['a', 'b', 'c'][i % 3], meta: { year: 2000 + (i % 25) } } };
    });
    assert.equal((await call(url, 'POST', '/v1/collections/f/documents', { documents })).status, 200);
  }
  const q = randomVectors(1, 16, 3)[0]!;
  const exact = (pred: (i: number) => boolean, k: number): string[] =>
    vs.map((v, i) => ({ i, d: v.reduce((s, x, j) => s + (x - q[j]!) ** 2, 0) })).filter((x) => pred(x.i)).sort((a, b) => a.d - b.d).slice(0, k).map((x) => `d${x.i}`);
  const cases: [unknown, (i: number) => boolean][] = [
    [{ tag: 'b' }, (i) => i % 3 === 1], // broad: graph walk + post-filter
    [{ n: { gte: 100, lt: 400 } }, (i) => i >= 100 && i < 400], // selective: exact
    [{ tag: { in: ['a', 'c'] }, 'meta.year': { gt: 2020 } }, (i) => i % 3 !== 1 && 2000 + (i % 25) > 2020],
    [{ tag: { ne: 'a' } }, (i) => i % 3 !== 0],
  ];
  for (const [filter, pred] of cases) {
    const r = await call(url, 'POST', '/v1/collections/f/search', { vector: q, k: 10, filter, efSearch: 400 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const ids = r.body.hits.map((h: { id: string }) => h.id);
    for (const id of ids) assert.ok(pred(Number(id.slice(1))), `${JSON.stringify(filter)}: ${id} does not match`);
    const want = exact(pred, 10);
    const overlap = ids.filter((id: string) => want.includes(id)).length;
    assert.ok(overlap >= 9, `${JSON.stringify(filter)}: recall ${overlap}/10`);
  }
});

test('collections: bad input is answered 4xx and the server stays up', async (t) => {
  const { url } = await startSearchServer(t);
  await call(url, 'POST', '/v1/collections', { name: 'b', dimension: 4 });
  const bad: [string, string, unknown, number, RegExp][] = [
    ['POST', '/v1/collections', { name: 'x' }, 400, /model.*dimension/],
    ['POST', '/v1/collections', { name: '../etc', dimension: 4 }, 400, /name/],
    ['POST', '/v1/collections', { name: 'm', model: 'nope' }, 404, /embedding model 'nope'/],
    ['POST', '/v1/collections/b/documents', { documents: [{ id: 'a', vector: [1, 2, 3] }] }, 400, /dimension 3, expected 4/],
    ['POST', '/v1/collections/b/documents', { documents: [{ id: 'a', text: 'hello' }] }, 400, /no embedding model/],
    ['POST', '/v1/collections/b/documents', '{not json', 400, /JSON/],
    ['POST', '/v1/collections/nope/documents', { documents: [{ id: 'a', vector: [1, 2, 3, 4] }] }, 404, /collection 'nope' not found/],
    ['POST', '/v1/collections/b/search', { vector: [1, 2, 3, 4, 5] }, 400, /dimension 5/],
    ['POST', '/v1/collections/b/search', { vector: [1, 2, 3, 4], filter: { n: { between: [1, 2] } } }, 400, /filter/],
    ['POST', '/v1/collections/b/search', { vector: [1, 2, 3, 4], filter: { 'a;drop': 1 } }, 400, /field path/],
    ['POST', '/v1/collections/b/search', { vector: [1, 2, 3, 4], filter: { n: {} } }, 400, /condition/],
    ['POST', '/v1/collections/b/search', { k: 3 }, 400, /text' or 'vector/],
    ['POST', '/v1/collections/b/snapshots/nope/restore', undefined, 404, /snapshot/],
  ];
  for (const [method, path, body, status, re] of bad) {
    const r = await call(url, method, path, body);
    assert.equal(r.status, status, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
    assert.match(r.body.error, re);
  }
  const ok = await call(url, 'POST', '/v1/collections/b/documents', { documents: [{ id: 'a', vector: [1, 2, 3, 4] }] });
  assert.equal(ok.status, 200);
});

test('collections: snapshot and restore bring back the documents as they were', async (t) => {
  const { url } = await startSearchServer(t);
  await call(url, 'POST', '/v1/collections', { name: 's', dimension: 4 });
  await call(url, 'POST', '/v1/collections/s/documents', { documents: [{ id: 'a', vector: [1, 0, 0, 0], text: 'alpha', payload: { v: 1 } }, { id: 'b', vector: [0, 1, 0, 0] }] });
  const snap = await call(url, 'POST', '/v1/collections/s/snapshots');
  assert.equal(snap.status, 201);
  await call(url, 'POST', '/v1/collections/s/documents', { documents: [{ id: 'c', vector: [0, 0, 1, 0] }, { id: 'a', vector: [0, 0, 0, 1], payload: { v: 2 } }] });
  await call(url, 'DELETE', '/v1/collections/s/documents/b');
  assert.equal((await call(url, 'GET', '/v1/collections/s/snapshots')).body.snapshots.length, 1);
  const restored = await call(url, 'POST', `/v1/collections/s/snapshots/${snap.body.snapshot}/restore`);
  assert.equal(restored.status, 200, JSON.stringify(restored.body));
  assert.equal(restored.body.documents, 2);
  assert.deepEqual((await call(url, 'GET', '/v1/collections/s/documents/a')).body.payload, { v: 1 });
  assert.equal((await call(url, 'GET', '/v1/collections/s/documents/c')).status, 404);
  const s = await call(url, 'POST', '/v1/collections/s/search', { vector: [0, 1, 0, 0], k: 1 });
  assert.equal(s.body.hits[0].id, 'b');
  const text = await call(url, 'POST', '/v1/collections/s/search', { text: 'alpha', mode: 'text', k: 1 });
  assert.equal(text.body.hits[0].id, 'a');
});
