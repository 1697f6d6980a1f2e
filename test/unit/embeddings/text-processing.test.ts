import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HfTokenizer } from '../../../src/embeddings/hf-tokenizer.js';
import { normalizeRows, poolTokens } from '../../../src/embeddings/pooling.js';
import { lengthGroups } from '../../../src/embeddings/text-embedding-instance.js';
import { WORDPIECE_VOCAB, wordpieceTokenizerJson } from '../../helpers/wordpiece-tokenizer.js';

test('embeddings: mean pooling averages only the unmasked positions; cls takes position 0', () => {
  // 2 rows, length 3, dim 2
  const states = new Float32Array([1, 2, 3, 4, 100, 100, /* row 2 */ 5, 6, 7, 8, 9, 10]);
  const mask = new Uint8Array([1, 1, 0, 1, 1, 1]);
  assert.deepEqual(Array.from(poolTokens(states, 2, 3, 2, mask, 'mean')), [2, 3, 7, 8]);
  assert.deepEqual(Array.from(poolTokens(states, 2, 3, 2, mask, 'cls')), [1, 2, 5, 6]);
});

test('embeddings: normalizeRows gives unit rows and leaves a zero row alone', () => {
  const v = new Float32Array([3, 4, 0, 0]);
  normalizeRows(v, 2, 2);
  assert.deepEqual(Array.from(v), [0.6000000238418579, 0.800000011920929, 0, 0]);
});

test('embeddings: lengthGroups keeps padding under 15% of each group and covers every row once', () => {
  const lengths = [3, 50, 4, 48, 3, 5, 200, 52, 4];
  const ids = lengths.map((n) => Array.from({ length: n }, () => 1));
  const groups = lengthGroups(lengths.map((_, i) => i), ids);
  assert.deepEqual(groups.flat().sort((a, b) => a - b), lengths.map((_, i) => i));
  for (const g of groups) {
    const max = Math.max(...g.map((r) => lengths[r]!));
    const real = g.reduce((s, r) => s + lengths[r]!, 0);
    assert.ok(g.length * max - real <= 0.15 * g.length * max, `group ${JSON.stringify(g)} wastes too much`);
  }
  assert.ok(groups.length < lengths.length, 'similar lengths share a group');
});

test('embeddings: the Hugging Face tokenizer adds [CLS]/[SEP] and keeps [SEP] when truncating', () => {
  const t = new HfTokenizer(wordpieceTokenizerJson(), {}, true);
  const ids = t.encode('The cats sat on the mat.');
  assert.deepEqual(ids.map((i) => WORDPIECE_VOCAB[i]), ['[CLS]', 'the', 'cat', '##s', 'sat', 'on', 'the', 'mat', '.', '[SEP]']);
  assert.deepEqual(t.truncate(ids, 4).map((i) => WORDPIECE_VOCAB[i]), ['[CLS]', 'the', 'cat', '[SEP]']);
  assert.equal(t.vocabSize, WORDPIECE_VOCAB.length);
  const plain = new HfTokenizer(wordpieceTokenizerJson(), {}, false);
  assert.deepEqual(plain.encode('hello zebra').map((i) => WORDPIECE_VOCAB[i]), ['hello', '[UNK]']);
  assert.deepEqual(plain.truncate(plain.encode('the cat sat'), 2), plain.encode('the cat'));
});
