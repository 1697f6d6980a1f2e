import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startServer, type TestServer } from '../helpers/start-server.js';
import { tempRepo } from '../helpers/temp-repo.js';
import { DirectUse, addUseModel, cosine, maxAbsDiff, useConfig } from '../../scripts/lib/use-direct.js';

const SENTENCES = [
  'A man is playing a guitar.',
  'Someone is strumming a guitar.',
  'The stock market fell sharply today.',
  'How do I bake bread at home?',
];

async function post(url: string, path: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

async function assertLive(server: TestServer): Promise<void> {
  const res = await fetch(`${server.url}/v2/health/live`);
  assert.equal(res.status, 200);
  await res.arrayBuffer();
}

test('openai: the official client gets the same vectors as a direct TF.js call, and every error is a clear 4xx', async (t) => {
  const repo = await tempRepo(t, {});
  await addUseModel(repo, 'text-embedding', await useConfig());
  const server = await startServer(t, repo);
  const direct = await DirectUse.load();
  const expected = await direct.embed(SENTENCES);
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'not-checked', maxRetries: 0 });

  await t.test('embeddings.create (the client asks for base64 and decodes it) equals the direct call', async () => {
    const res = await client.embeddings.create({ model: 'text-embedding', input: SENTENCES });
    assert.equal(res.object, 'list');
    assert.equal(res.model, 'text-embedding');
    assert.equal(res.data.length, SENTENCES.length);
    res.data.forEach((d, i) => {
      assert.equal(d.index, i);
      assert.equal(d.embedding.length, 512);
      assert.ok(maxAbsDiff(d.embedding, expected[i]!) <= 1e-5, `sentence ${i} differs by ${maxAbsDiff(d.embedding, expected[i]!)}`);
    });
    const tokens = SENTENCES.reduce((s, x) => s + direct.tokenizer.encode(x).length, 0);
    assert.deepEqual(res.usage, { prompt_tokens: tokens, total_tokens: tokens });
  });

  await t.test('float encoding, a single string and token arrays give the same vectors', async () => {
    const floats = await client.embeddings.create({ model: 'text-embedding', input: SENTENCES[2]!, encoding_format: 'float' });
    assert.ok(maxAbsDiff(floats.data[0]!.embedding, expected[2]!) <= 1e-5);
    const ids = SENTENCES.map((s) => direct.tokenizer.encode(s));
    const fromIds = await client.embeddings.create({ model: 'text-embedding', input: ids, encoding_format: 'float' });
    fromIds.data.forEach((d, i) => assert.ok(maxAbsDiff(d.embedding, expected[i]!) <= 1e-5, `token array ${i}`));
    const one = await client.embeddings.create({ model: 'text-embedding', input: ids[0]!, encoding_format: 'float' });
    assert.ok(maxAbsDiff(one.data[0]!.embedding, expected[0]!) <= 1e-5);
  });

  await t.test('paraphrases score higher than unrelated pairs', async () => {
    const res = await client.embeddings.create({ model: 'text-embedding', input: SENTENCES });
    const v = res.data.map((d) => d.embedding);
    const paraphrase = cosine(v[0]!, v[1]!);
    for (const unrelated of [cosine(v[0]!, v[2]!), cosine(v[0]!, v[3]!), cosine(v[1]!, v[2]!)]) {
      assert.ok(paraphrase > unrelated + 0.2, `paraphrase ${paraphrase} vs unrelated ${unrelated}`);
    }
  });

  await t.test('GET /v1/models lists the model', async () => {
    const models = await client.models.list();
    assert.deepEqual(models.data.map((m) => m.id), ['text-embedding']);
    const one = await client.models.retrieve('text-embedding');
    assert.equal(one.owned_by, 'modelplane');
  });

  await t.test('errors: empty input, too many inputs, too long without truncation, unknown model, wrong encoding', async () => {
    const cases: Array<[string, unknown, number, string | null]> = [
      ['empty string', { model: 'text-embedding', input: '' }, 400, 'input'],
      ['empty array', { model: 'text-embedding', input: [] }, 400, 'input'],
      ['empty string in an array', { model: 'text-embedding', input: ['ok', ''] }, 400, 'input[1]'],
      ['too many inputs', { model: 'text-embedding', input: Array.from({ length: 2049 }, () => 'x') }, 400, 'input'],
      ['too long', { model: 'text-embedding', input: 'word '.repeat(400) }, 400, null],
      ['unknown model', { model: 'no-such-model', input: 'hello' }, 404, null],
      ['wrong encoding', { model: 'text-embedding', input: 'hello', encoding_format: 'hex' }, 400, 'encoding_format'],
      ['dimensions not offered', { model: 'text-embedding', input: 'hello', dimensions: 128 }, 400, null],
      ['token id outside the vocabulary', { model: 'text-embedding', input: [[1, 99999]] }, 400, null],
      ['not JSON', '{"model": ', 400, null],
      ['unknown field', { model: 'text-embedding', input: 'hi', temperature: 1 }, 400, null],
    ];
    for (const [name, body, status, param] of cases) {
      const res = await post(server.url, '/v1/embeddings', body);
      assert.equal(res.status, status, `${name}: ${JSON.stringify(res.json)}`);
      const error = (res.json as { error: { message: string; type: string; param: string | null; code: string } }).error;
      assert.equal(typeof error.message, 'string', name);
      assert.ok(error.message.length > 0, name);
      assert.equal(error.type, 'invalid_request_error', name);
      if (param !== null) assert.equal(error.param, param, name);
      await assertLive(server);
    }
    await assert.rejects(client.embeddings.create({ model: 'no-such-model', input: 'x' }), (err: unknown) => err instanceof OpenAI.NotFoundError);
    await assert.rejects(client.embeddings.create({ model: 'text-embedding', input: '' }), (err: unknown) => err instanceof OpenAI.BadRequestError);
  });

  await t.test('TEI /embed answers the same vectors, truncates on request, and refuses in TEI statuses', async () => {
    const res = await post(server.url, '/embed', { inputs: SENTENCES });
    assert.equal(res.status, 200);
    (res.json as number[][]).forEach((v, i) => assert.ok(maxAbsDiff(v, expected[i]!) <= 1e-5, `TEI sentence ${i}`));
    const long = 'word '.repeat(400);
    assert.equal((await post(server.url, '/embed', { inputs: long })).status, 422);
    const cut = await post(server.url, '/embed', { inputs: long, truncate: true });
    assert.equal(cut.status, 200);
    assert.equal((cut.json as number[][])[0]!.length, 512);
    const tooMany = await post(server.url, '/embed', { inputs: Array.from({ length: 2049 }, () => 'x') });
    assert.equal(tooMany.status, 413);
    assert.equal((tooMany.json as { error_type: string }).error_type, 'Validation');
    assert.equal((await post(server.url, '/embed', { inputs: 'x', normalize: false })).status, 422);
    assert.equal((await post(server.url, '/embed', { inputs: [] })).status, 422);
    await assertLive(server);
  });

  await t.test('v2: the same model takes BYTES and shows its processing in the config', async () => {
    const res = await post(server.url, '/v2/models/text-embedding/infer', {
      inputs: [{ name: 'text', datatype: 'BYTES', shape: [2], data: SENTENCES.slice(0, 2) }],
    });
    assert.equal(res.status, 200);
    const out = (res.json as { outputs: Array<{ name: string; shape: number[]; data: number[] }> }).outputs;
    const emb = out.find((o) => o.name === 'embedding')!;
    assert.deepEqual(emb.shape, [2, 512]);
    assert.ok(maxAbsDiff(emb.data.slice(0, 512), expected[0]!) <= 1e-5);
    assert.deepEqual(out.find((o) => o.name === 'token_count')!.data, SENTENCES.slice(0, 2).map((s) => direct.tokenizer.encode(s).length));
    const long = { inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], data: ['word '.repeat(400)] }] };
    assert.equal((await post(server.url, '/v2/models/text-embedding/infer', long)).status, 400);
    const cut = await post(server.url, '/v2/models/text-embedding/infer', { ...long, parameters: { truncate: true } });
    assert.equal(cut.status, 200);
    assert.deepEqual((cut.json as { outputs: Array<{ name: string; data: number[] }> }).outputs.find((o) => o.name === 'token_count')!.data, [256]);
    assert.equal((await post(server.url, '/v2/models/text-embedding/infer', { ...long, parameters: { truncate: 'yes' } })).status, 400);
    const meta = await (await fetch(`${server.url}/v2/models/text-embedding`)).json() as { platform: string; inputs: unknown; parameters: unknown };
    assert.equal(meta.platform, 'tfjs');
    assert.deepEqual(meta.parameters, {
      text_embedding: { tokenizer: 'use-sentencepiece', pooling: 'none', normalize: true, max_tokens: 256, truncation: 'error', dimensions: [], response_cache: false },
    });
    assert.deepEqual(meta.inputs, [{ name: 'text', datatype: 'BYTES', shape: [-1] }]);
    const config = await (await fetch(`${server.url}/v2/models/text-embedding/config`)).json() as { text_embedding: { tokenizer: { type: string } } };
    assert.equal(config.text_embedding.tokenizer.type, 'use-sentencepiece');
  });
});

test('openai: a lone client is not held for max_queue_delay_us (issue 8: the example config uses the adaptive queue delay)', async (t) => {
  const example = await useConfig();
  const batching = example.dynamic_batching as Record<string, unknown>;
  assert.equal(batching.adaptive_queue_delay, true, 'examples/models/text-embedding/config.json sets adaptive_queue_delay');
  // The example's batching with a delay no test could sit through: only the adaptive rule lets a
  // lone request go at once (Triton's rule would hold each one 30 s waiting for company).
  const delayUs = 30_000_000;
  const repo = await tempRepo(t, {});
  await addUseModel(repo, 'text-embedding', { ...example, dynamic_batching: { ...batching, max_queue_delay_us: delayUs } });
  const server = await startServer(t, repo);
  for (const input of SENTENCES.slice(0, 3)) {
    const res = await post(server.url, '/v1/embeddings', { model: 'text-embedding', input });
    assert.equal(res.status, 200);
  }
  const stats = await (await fetch(`${server.url}/v2/models/text-embedding/stats`)).json() as {
    model_stats: Array<{ inference_count: number; inference_stats: { queue: { count: number; ns: number } } }>;
  };
  const queue = stats.model_stats[0]!.inference_stats.queue;
  assert.ok(queue.count >= 3);
  assert.ok(queue.ns < delayUs * 1000, `queued ${queue.ns} ns in all, less than one max_queue_delay_us`);
});
