import assert from 'node:assert/strict';
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { startApp } from '../../../src/app.js';
import { servedTextEmbedders } from '../../../src/search/serving-text-embedder.js';
import { dot } from '../../../src/search/text-embedder.js';
import { UseLiteEmbedder } from '../../../src/search/use-lite-embedder.js';
import { call, tempDir } from '../../helpers/search-server.js';
import { waitReady } from '../../helpers/start-server.js';

test('search: collections embed through the served text-embedding model (its scheduler), with the vectors of USE-lite in-process', async (t) => {
  const repository = await tempDir(t, 'mp-repo-');
  await symlink(join(import.meta.dirname, '../../../examples/models/text-embedding'), join(repository, 'text-embedding'));
  const app = await startApp({ repository, host: '127.0.0.1', port: 0, bodyLimitBytes: 1 << 24, logger: false, search: { dataDir: await tempDir(t) } });
  t.after(() => app.close());
  await waitReady(app.url);

  const [served] = servedTextEmbedders(app.manager);
  assert.equal(served?.model, 'text-embedding');
  assert.equal(served.dimension, 512);
  const texts = ['Heavy rain is expected on the coast tomorrow.', 'The patient denies chest pain.', 'Stocks fell sharply.'];
  const [a, b] = await Promise.all([served.embed(texts), new UseLiteEmbedder().embed(texts)]);
  a.forEach((v, i) => v.forEach((x, j) => assert.ok(Math.abs(x - b[i]![j]!) <= 1e-5, `text ${i} dim ${j}: ${x} vs ${b[i]![j]}`)));
  // More texts than one request holds (max_batch_size 32), of mixed lengths: sent sorted by length, answered in order.
  const many = Array.from({ length: 45 }, (_, i) => `${'very '.repeat((i * 7) % 11)}item ${i} of the list, about ${['rain', 'stocks', 'knees', 'budgets', 'guitars'][i % 5]}`);
  const [sa, sb] = await Promise.all([served.embed(many), new UseLiteEmbedder({ threads: 1 }).embed(many)]);
  assert.equal(sa.length, many.length);
  sa.forEach((v, i) => assert.ok(dot(v, sb[i]!) > 0.9999, `text ${i}: served and in-process vectors differ (cos ${dot(v, sb[i]!)})`));

  const stats = async () => ((await (await fetch(`${app.url}/v2/models/text-embedding/stats`)).json()) as { model_stats: Array<{ inference_count: number }> }).model_stats[0]!.inference_count;
  const before = await stats();
  assert.equal((await call(app.url, 'POST', '/v1/collections', { name: 'news', model: 'text-embedding' })).status, 201);
  const docs = [
    { id: 'weather', text: 'Heavy rain and strong winds are expected across the coast tomorrow.' },
    { id: 'recipe', text: 'Whisk the eggs with sugar, then fold in the flour gently.' },
    { id: 'market', text: 'Stocks fell sharply as investors worried about interest rates.' },
  ];
  assert.equal((await call(app.url, 'POST', '/v1/collections/news/documents', { documents: docs })).status, 200);
  const hits = await call(app.url, 'POST', '/v1/collections/news/search', { text: 'storm warning for the seaside', k: 1 });
  assert.equal(hits.status, 200, JSON.stringify(hits.body));
  assert.equal(hits.body.hits[0].id, 'weather');
  assert.ok((await stats()) >= before + docs.length + 1, 'documents and the query were embedded by the served model');

  // Evidence links with USE-lite in-process (what its scorer is calibrated on), not the served model.
  const servedBefore = await stats();
  const linked = await call(app.url, 'POST', '/v1/evidence/link', { source: { text: 'Doctor: Any chest pain?\nPatient: No, none at all.' }, summary: 'The patient denies chest pain.' });
  assert.equal(linked.status, 200, JSON.stringify(linked.body));
  assert.equal(linked.body.embeddingModel, 'use-lite');
  assert.equal(await stats(), servedBefore, 'evidence linking did not go through the served model');
});
