/**
 * Fuzzes POST /v1/embeddings with valid, mutated and random bodies against the real USE-lite model.
 * Every answer must be a 4xx in OpenAI's error shape, or a 200 with one well-formed vector per input
 * (generated valid requests must succeed). Never a 5xx, never a dropped connection, the server stays
 * up. Seeded: a failure names its case, and FUZZ_SEED reproduces a run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Prng } from '../helpers/prng.js';
import { startServer } from '../helpers/start-server.js';
import { tempRepo } from '../helpers/temp-repo.js';
import { addUseModel, useConfig } from '../../scripts/lib/use-direct.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261123);
const CASES = 400;
const CONCURRENCY = 8;
const WORDS = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'héllo', '日本', '🙂', 'quick', 'fox', '"quoted"', 'back\\slash', 'tab\t', 'nul\u0000'];

interface Case {
  kind: string;
  body: string | Buffer;
  /** Inputs of a generated valid request (it must succeed), else undefined. */
  validInputs?: number;
  format?: 'float' | 'base64';
}

function sentence(rng: Prng): string {
  return Array.from({ length: rng.range(1, 12) }, () => rng.pick(WORDS)).join(' ');
}

function validCase(rng: Prng): Case {
  const format = rng.pick([undefined, 'float', 'base64'] as const);
  const shape = rng.int(4);
  const n = rng.range(1, 5);
  const input = shape === 0 ? sentence(rng)
    : shape === 1 ? Array.from({ length: n }, () => sentence(rng))
      : shape === 2 ? Array.from({ length: rng.range(1, 20) }, () => rng.range(0, 7999))
        : Array.from({ length: n }, () => Array.from({ length: rng.range(1, 20) }, () => rng.range(0, 7999)));
  const body: Record<string, unknown> = { model: 'text-embedding', input };
  if (format) body.encoding_format = format;
  if (rng.chance(0.2)) body.user = `user-${rng.int(100)}`;
  if (rng.chance(0.1)) body.dimensions = 512;
  const count = typeof input === 'string' || typeof (input as unknown[])[0] === 'number' ? 1 : (input as unknown[]).length;
  return { kind: 'valid', body: JSON.stringify(body), validInputs: count, format: format ?? 'float' };
}

function randomValue(rng: Prng, depth = 0): unknown {
  switch (rng.int(depth > 2 ? 6 : 9)) {
    case 0: return rng.pick([0, -1, 1.5, 2 ** 31, 2 ** 53 + 2, 1e308, 8000, 7999, -0]);
    case 1: return rng.pick(['', 'text-embedding', 'float', 'base64', 'hex', 'x'.repeat(3000), '\u0000', '🙂', 'word '.repeat(300)]);
    case 2: return null;
    case 3: return rng.chance(0.5);
    case 4: return [];
    case 5: return {};
    case 6: return Array.from({ length: rng.int(5) }, () => randomValue(rng, depth + 1));
    case 7: return Object.fromEntries(Array.from({ length: rng.int(4) }, () => [rng.pick(['input', 'model', 'encoding_format', 'dimensions', 'user', 'extra']), randomValue(rng, depth + 1)]));
    default: return Array.from({ length: rng.int(4) }, () => rng.int(9000) - 100);
  }
}

function mutatedCase(rng: Prng): Case {
  const doc = JSON.parse(validCase(rng).body as string) as Record<string, unknown>;
  const key = rng.pick(['input', 'model', 'encoding_format', 'dimensions', 'user', 'other']);
  if (rng.chance(0.3)) delete doc[key];
  else doc[key] = randomValue(rng);
  return { kind: `mutated-${key}`, body: JSON.stringify(doc) };
}

function garbageCase(rng: Prng): Case {
  switch (rng.int(4)) {
    case 0: return { kind: 'random-json', body: JSON.stringify(randomValue(rng)) };
    case 1: return { kind: 'random-bytes', body: rng.bytes(rng.int(200)) };
    case 2: {
      const text = validCase(rng).body as string;
      return { kind: 'truncated-json', body: text.slice(0, rng.int(text.length)) };
    }
    default: return { kind: 'empty-body', body: '' };
  }
}

function checkOk(c: Case, json: unknown, where: string): void {
  const body = json as { object: string; data: Array<{ object: string; index: number; embedding: unknown }>; usage: { prompt_tokens: number; total_tokens: number } };
  assert.equal(body.object, 'list', where);
  if (c.validInputs !== undefined) assert.equal(body.data.length, c.validInputs, where);
  body.data.forEach((d, i) => {
    assert.equal(d.index, i, where);
    if (typeof d.embedding === 'string') assert.equal(Buffer.from(d.embedding, 'base64').byteLength, 512 * 4, where);
    else {
      const v = d.embedding as number[];
      assert.equal(v.length, 512, where);
      const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
      assert.ok(Math.abs(norm - 1) < 1e-3, `${where}: norm ${norm}`);
    }
    if (c.format) assert.equal(typeof d.embedding, c.format === 'base64' ? 'string' : 'object', where);
  });
  assert.ok(Number.isInteger(body.usage.prompt_tokens) && body.usage.prompt_tokens > 0, where);
  assert.equal(body.usage.total_tokens, body.usage.prompt_tokens, where);
}

test('openai fuzz: /v1/embeddings answers every body with a 200 or an OpenAI-shaped 4xx, and stays up', async (t) => {
  const repo = await tempRepo(t, {});
  await addUseModel(repo, 'text-embedding', await useConfig());
  const server = await startServer(t, repo);
  const rng = new Prng(SEED);
  const cases: Case[] = Array.from({ length: CASES }, () => {
    const r = rng.next();
    return r < 0.35 ? validCase(rng) : r < 0.8 ? mutatedCase(rng) : garbageCase(rng);
  });
  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const i = next++;
      const c = cases[i]!;
      const where = `case ${i} (${c.kind}, seed ${SEED}): ${String(c.body).slice(0, 200)}`;
      const res = await fetch(`${server.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: c.body });
      const text = await res.text();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      assert.ok(res.status === 200 || (res.status >= 400 && res.status < 500), `${where}: status ${res.status} ${text}`);
      const json = JSON.parse(text) as unknown;
      if (c.validInputs !== undefined) assert.equal(res.status, 200, `${where}: ${text}`);
      if (res.status === 200) checkOk(c, json, where);
      else {
        const error = (json as { error: { message: unknown; type: unknown } }).error;
        assert.equal(typeof error.message, 'string', where);
        assert.equal(error.type, 'invalid_request_error', where);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  assert.ok((statuses.get(200) ?? 0) >= CASES * 0.3, `too few successes: ${JSON.stringify([...statuses])}`);
  assert.ok([...statuses.keys()].some((s) => s >= 400), 'some cases must be refused');
  const live = await fetch(`${server.url}/v2/health/live`);
  assert.equal(live.status, 200);
});
