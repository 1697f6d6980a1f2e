import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers/start-server.js';
import { tempRepo } from '../helpers/temp-repo.js';
import { addUseModel, useConfig } from '../../scripts/lib/use-direct.js';

async function embed(url: string, body: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(`${url}/v1/embeddings`, { method: 'POST', body: JSON.stringify(body) });
  return { status: res.status, text: await res.text() };
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes('model="text-embedding"'));
  return line ? Number(line.split(' ').at(-1)) : NaN;
}

test('embedding cache: a repeated input is answered byte-identically without inference, counted in metrics, dropped on unload', async (t) => {
  const repo = await tempRepo(t, {});
  const config = await useConfig();
  await addUseModel(repo, 'text-embedding', { ...config, text_embedding: { ...(config.text_embedding as object), response_cache: { enable: true, max_bytes: 1 << 20 } } });
  const server = await startServer(t, repo);
  const body = { model: 'text-embedding', input: ['a sentence to cache', 'and another one'] };

  const first = await embed(server.url, body);
  assert.equal(first.status, 200);
  const ctx = server.app.manager.resolve('text-embedding');
  const inferred = ctx.statistics.inferenceCount;
  const second = await embed(server.url, body);
  assert.equal(second.text, first.text, 'a cached answer is byte-identical to the computed one');
  assert.equal(ctx.statistics.inferenceCount, inferred, 'no inference ran for cached inputs');
  // A mixed request: one cached text, one new; base64 of the cached vector matches the float one.
  const mixed = JSON.parse((await embed(server.url, { ...body, input: ['and another one', 'something new'], encoding_format: 'base64' })).text) as { data: Array<{ embedding: string }> };
  const floats = (JSON.parse(first.text) as { data: Array<{ embedding: number[] }> }).data[1]!.embedding;
  assert.deepEqual(Array.from(new Float32Array(Uint8Array.from(Buffer.from(mixed.data[0]!.embedding, 'base64')).buffer)), floats);
  assert.equal(ctx.statistics.inferenceCount, inferred + 1);

  assert.equal(await metric(server.url, 'modelplane_embedding_cache_hits_total'), 3);
  assert.equal(await metric(server.url, 'modelplane_embedding_cache_misses_total'), 3);
  assert.ok((await metric(server.url, 'modelplane_embedding_cache_bytes')) > 3 * 2048);
  assert.ok((await metric(server.url, 'modelplane_embedding_cache_saved_compute_seconds_total')) > 0);

  const cache = ctx.admission!.cache!;
  assert.equal(cache.size, 3);
  await ctx.unload();
  assert.equal(cache.size, 0, 'unloading the version invalidates its cache');
});
