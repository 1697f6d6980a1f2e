import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EmbeddingCache } from '../../../src/embeddings/embedding-cache.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
const entry = (x: number) => ({ vector: new Float32Array(100).fill(x), tokens: x });
// Each entry costs its key (1 + text bytes), 400 vector bytes and 96 bytes of overhead.

test('embedding cache: keys are the exact bytes plus the truncation flag', () => {
  assert.notEqual(EmbeddingCache.key(utf8('a'), true), EmbeddingCache.key(utf8('a'), false));
  assert.notEqual(EmbeddingCache.key(utf8('é'), false), EmbeddingCache.key(utf8('e\u0301'), false));
  assert.equal(EmbeddingCache.key(utf8('日本'), false), EmbeddingCache.key(utf8('日本'), false));
  assert.equal(EmbeddingCache.key(new Uint8Array([0, 255, 1]), false).length, 4);
});

test('embedding cache: bounded in bytes, evicts the least recently used, counts hits and misses', () => {
  const cache = new EmbeddingCache(3 * (2 + 400 + 96));
  for (const k of ['a', 'b', 'c']) cache.set(EmbeddingCache.key(utf8(k), false), entry(k.charCodeAt(0)));
  assert.equal(cache.size, 3);
  assert.equal(cache.bytes, 3 * 498);
  assert.equal(cache.get(EmbeddingCache.key(utf8('a'), false))?.tokens, 97); // 'a' is now the most recent
  cache.set(EmbeddingCache.key(utf8('d'), false), entry(100));
  assert.equal(cache.size, 3);
  assert.equal(cache.evictions, 1);
  assert.equal(cache.get(EmbeddingCache.key(utf8('b'), false)), undefined, "'b' was the least recently used");
  assert.ok(cache.get(EmbeddingCache.key(utf8('a'), false)));
  assert.ok(cache.get(EmbeddingCache.key(utf8('c'), false)));
  assert.deepEqual([cache.hits, cache.misses], [3, 1]);
  assert.ok(cache.bytes <= cache.maxBytes);
  cache.set('x'.repeat(5000), entry(1)); // larger than the whole cache: not stored, nothing evicted
  assert.equal(cache.size, 3);
  cache.clear();
  assert.deepEqual([cache.size, cache.bytes], [0, 0]);
});
