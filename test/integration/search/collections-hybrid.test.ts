import assert from 'node:assert/strict';
import { test } from 'node:test';
import { call, startSearchServer } from '../../helpers/search-server.js';

const DOCS = [
  { id: 'weather', text: 'Heavy rain and strong winds are expected across the coast tomorrow.', payload: { topic: 'news', year: 2024 } },
  { id: 'football', text: 'The home team won the final after a penalty shootout.', payload: { topic: 'sport', year: 2023 } },
  { id: 'recipe', text: 'Whisk the eggs with sugar, then fold in the flour gently.', payload: { topic: 'food', year: 2022 } },
  { id: 'invoice', text: 'Order XK-4471 was shipped on Monday and the invoice is attached.', payload: { topic: 'business', year: 2024 } },
  { id: 'doctor', text: 'The patient has had a headache for three days and takes ibuprofen.', payload: { topic: 'health', year: 2024 } },
  { id: 'market', text: 'Stocks fell sharply as investors worried about interest rates.', payload: { topic: 'business', year: 2023 } },
];

test('collections: text documents embedded server-side (USE-lite), vector, text and hybrid search with weights', async (t) => {
  const { url } = await startSearchServer(t);
  const created = await call(url, 'POST', '/v1/collections', { name: 'h', model: 'use-lite' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.dimension, 512);
  assert.equal((await call(url, 'POST', '/v1/collections/h/documents', { documents: DOCS })).status, 200);
  const ids = async (body: object): Promise<string[]> => {
    const r = await call(url, 'POST', '/v1/collections/h/search', body);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.hits.map((h: { id: string }) => h.id);
  };
  // Meaning without shared words: only the vector side can find these.
  assert.equal((await ids({ text: 'storm warning for the seaside', k: 1 }))[0], 'weather');
  assert.equal((await ids({ text: 'how to bake a cake', k: 1 }))[0], 'recipe');
  assert.equal((await ids({ text: 'migraine treatment with painkillers', k: 1 }))[0], 'doctor');
  // An identifier: BM25 finds it; hybrid keeps it first.
  assert.deepEqual(await ids({ text: 'XK-4471', mode: 'text', k: 3 }), ['invoice']);
  assert.equal((await ids({ text: 'XK-4471 status', mode: 'hybrid', k: 3 }))[0], 'invoice');
  // Weights: text weight 0 makes hybrid rank as vector search does; vector weight 0 as text search does.
  const q = 'interest rates and the stock market';
  assert.deepEqual(await ids({ text: q, mode: 'hybrid', weights: { text: 0 }, k: 4 }), await ids({ text: q, mode: 'vector', k: 4 }));
  assert.deepEqual(await ids({ text: q, mode: 'hybrid', weights: { vector: 0 }, k: 4 }), await ids({ text: q, mode: 'text', k: 4 }));
  // Filters apply to both sides of a hybrid search.
  const filtered = await ids({ text: 'shipping an order', mode: 'hybrid', filter: { topic: 'business', year: { gte: 2024 } }, k: 5 });
  assert.deepEqual(filtered, ['invoice']);
});
