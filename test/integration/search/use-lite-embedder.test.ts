import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MpError } from '../../../src/errors.js';
import { dot } from '../../../src/search/text-embedder.js';
import { UseLiteEmbedder } from '../../../src/search/use-lite-embedder.js';

// Lengths deliberately mixed so sorting reorders them and the calls are cut in several places.
const texts = [
  'The patient reports sharp pain in the left knee that started three weeks ago after a fall on the stairs.',
  'No.',
  'Stocks fell sharply.',
  'Heavy rain is expected on the coast tomorrow, with strong winds in the afternoon and flooding near rivers.',
  '',
  'We agreed to move the release to Friday.',
  'Any numbness?',
  'The budget for the second quarter is forty thousand dollars, approved by Maria on Tuesday.',
];

test('use-lite: sorted, batched calls on two threads answer each text with its own vector, in order', async (t) => {
  const pooled = new UseLiteEmbedder({ threads: 2, batchChars: 120, maxBatch: 3 });
  const single = new UseLiteEmbedder({ threads: 1, maxBatch: 1 });
  t.after(() => Promise.all([pooled.close(), single.close()]));
  // Two concurrent calls queue together and are planned as one burst.
  const [a, b] = await Promise.all([pooled.embed(texts.slice(0, 5)), pooled.embed(texts.slice(5))]);
  const got = [...a, ...b];
  const want = await single.embed(texts);
  assert.equal(got.length, texts.length);
  got.forEach((v, i) => {
    assert.equal(v.length, 512);
    assert.ok(Math.abs(dot(v, v) - 1) < 1e-4, `text ${i} is unit length`);
    assert.ok(dot(v, want[i]!) > 0.9999, `text ${i}: same vector as embedded alone (cos ${dot(v, want[i]!)})`);
  });
  // Different texts stay different (a scatter bug that swapped vectors would fail the check above or this one).
  assert.ok(dot(got[0]!, got[2]!) < 0.9);
});

test('use-lite: close ends the threads and later calls fail with MP_BACKEND', async () => {
  const e = new UseLiteEmbedder({ threads: 1 });
  assert.equal((await e.embed(['hello there'])).length, 1);
  await e.close();
  await e.close();
  await assert.rejects(e.embed(['again']), (err: unknown) => err instanceof MpError && err.code === 'MP_BACKEND');
  assert.throws(() => new UseLiteEmbedder({ threads: 0 }), (err: unknown) => err instanceof MpError && err.code === 'MP_INVALID_ARG');
});
