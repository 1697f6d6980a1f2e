import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import OpenAI from 'openai';
import { buildTextEncoderModel, encoderTable } from '../../scripts/lib/text-encoder-model.js';
import { HfTokenizer } from '../../src/embeddings/hf-tokenizer.js';
import { startServer } from '../helpers/start-server.js';
import { tempRepo } from '../helpers/temp-repo.js';
import { maxAbsDiff } from '../../scripts/lib/use-direct.js';
import { WORDPIECE_VOCAB, wordpieceTokenizerJson } from '../helpers/wordpiece-tokenizer.js';

const SPEC = { vocabSize: WORDPIECE_VOCAB.length, hidden: 8, seed: 11 };
const TEXTS = ['The cat sat on the mat.', 'hello', 'A quick brown fox jumped over the lazy dogs!', 'dog'];

function textEmbedding(pooling: 'mean' | 'cls', extra: object = {}): object {
  return {
    tokenizer: { type: 'huggingface', file: 'tokenizer.json' },
    encoder_inputs: { kind: 'padded', token_type_ids: 'token_type_ids' },
    encoder_output: 'last_hidden_state',
    pooling,
    max_tokens: 16,
    ...extra,
  };
}

/** What the encoder + pooling + normalisation must give, computed here from the table itself. */
function expected(ids: number[], pooling: 'mean' | 'cls', size = SPEC.hidden): number[] {
  const table = encoderTable(SPEC);
  const v = new Array<number>(SPEC.hidden).fill(0);
  const used = pooling === 'cls' ? ids.slice(0, 1) : ids;
  for (const id of used) for (let d = 0; d < SPEC.hidden; d++) v[d]! += table[id * SPEC.hidden + d]! / used.length;
  const prefix = v.slice(0, size);
  const norm = Math.sqrt(prefix.reduce((s, x) => s + x * x, 0));
  return prefix.map((x) => x / norm);
}

test('hf tokenizer path: an ONNX encoder with tokenizer.json, mean and CLS pooling, served through /v1/embeddings', async (t) => {
  const model = buildTextEncoderModel(SPEC);
  const repo = await tempRepo(t, {
    'mini-mean': { config: { backend: 'onnx', max_batch_size: 16, text_embedding: textEmbedding('mean', { dimensions: [4] }), dynamic_batching: { max_batch_tokens: 64 } }, versions: { 1: model } },
    'mini-cls': { config: { backend: 'onnx', max_batch_size: 16, instance_kind: 'inline', text_embedding: textEmbedding('cls', { truncation: 'truncate' }) }, versions: { 1: model } },
    'mini-bad': { config: { backend: 'onnx', max_batch_size: 16, text_embedding: textEmbedding('mean', { encoder_inputs: { kind: 'padded', input_ids: 'ids' } }) }, versions: { 1: model } },
  });
  for (const name of ['mini-mean', 'mini-cls', 'mini-bad']) await writeFile(join(repo, name, '1', 'tokenizer.json'), JSON.stringify(wordpieceTokenizerJson()));
  const server = await startServer(t, repo);
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'x', maxRetries: 0 });
  const tokenizer = new HfTokenizer(wordpieceTokenizerJson(), {}, true);
  const ids = TEXTS.map((s) => tokenizer.encode(s));

  for (const pooling of ['mean', 'cls'] as const) {
    const res = await client.embeddings.create({ model: `mini-${pooling}`, input: TEXTS });
    res.data.forEach((d, i) => {
      assert.ok(maxAbsDiff(d.embedding, expected(ids[i]!, pooling)) <= 1e-5, `${pooling} text ${i}: ${d.embedding} vs ${expected(ids[i]!, pooling)}`);
    });
    assert.equal(res.usage.prompt_tokens, ids.reduce((s, x) => s + x.length, 0));
  }

  // Matryoshka prefix, re-normalised; a size the config does not list is refused.
  const short = await client.embeddings.create({ model: 'mini-mean', input: TEXTS[0]!, dimensions: 4 });
  assert.ok(maxAbsDiff(short.data[0]!.embedding, expected(ids[0]!, 'mean', 4)) <= 1e-5);
  await assert.rejects(client.embeddings.create({ model: 'mini-mean', input: 'x', dimensions: 3 }), (e: unknown) => e instanceof OpenAI.BadRequestError);

  // Truncation: refused on mini-mean (policy error), cut to 16 tokens keeping [SEP] on mini-cls (policy truncate).
  const long = 'the cat sat on the mat '.repeat(4); // 26 tokens
  await assert.rejects(client.embeddings.create({ model: 'mini-mean', input: long }), (e: unknown) => e instanceof OpenAI.BadRequestError && /model 'mini-mean': text 0 has 26 tokens, more than max_tokens 16/.test(e.message));
  const cut = await client.embeddings.create({ model: 'mini-cls', input: long });
  assert.equal(cut.usage.prompt_tokens, 16);
  assert.ok(maxAbsDiff(cut.data[0]!.embedding, expected(tokenizer.truncate(tokenizer.encode(long), 16), 'cls')) <= 1e-5);

  // A config naming an encoder input the model lacks: that model is UNAVAILABLE with the reason, the others serve.
  const index = await (await fetch(`${server.url}/v2/repository/index`, { method: 'POST' })).json() as Array<{ name: string; state: string; reason: string }>;
  const bad = index.find((m) => m.name === 'mini-bad')!;
  assert.equal(bad.state, 'UNAVAILABLE');
  assert.match(bad.reason, /text_embedding\.encoder_inputs: the encoder has no input 'ids'/);
});
