import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { startApp } from '../../src/app.js';
import { parseServeOptions } from '../../src/cli/serve-options.js';
import { buildMlpModel } from '../../scripts/lib/mlp-model.js';

function repo(t: { after(fn: () => unknown): void }): string {
  const root = mkdtempSync(join(tmpdir(), 'mp-log-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'mlp', '1'), { recursive: true });
  writeFileSync(join(root, 'mlp', '1', 'model.onnx'), buildMlpModel({ features: 4, hidden: [8], classes: 2, seed: 3 }));
  writeFileSync(join(root, 'mlp', 'config.json'), JSON.stringify({ name: 'mlp', max_batch_size: 8, dynamic_batching: {} }));
  return root;
}

function capture(level: string): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level }, sink), lines };
}

// Distinctive input values, to prove tensor contents never reach the log.
const BODY = JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [1.2345678, 2.3456789, 3.4567891, 4.5678912] }] });

async function infer(url: string, headers: Record<string, string> = {}, body = BODY): Promise<Response> {
  const res = await fetch(`${url}/v2/models/mlp/infer`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  await res.arrayBuffer();
  return res;
}

test('access log: one JSON line per request with its id, model, version, status and durations; ids echoed; no tensor contents', async (t) => {
  const { logger, lines } = capture('info');
  const app = await startApp({ repository: repo(t), host: '127.0.0.1', port: 0, bodyLimitBytes: 1 << 20, logger });
  t.after(() => app.close());
  const before = lines.length;

  const given = await infer(app.url, { 'x-request-id': 'client-abc.123' });
  assert.equal(given.status, 200);
  assert.equal(given.headers.get('x-request-id'), 'client-abc.123');
  const generated = await infer(app.url);
  const generatedId = generated.headers.get('x-request-id') ?? '';
  assert.match(generatedId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  // An id that could forge log content is replaced, not copied.
  const hostile = await infer(app.url, { 'x-request-id': 'x'.repeat(200) });
  assert.notEqual(hostile.headers.get('x-request-id'), 'x'.repeat(200));
  const bad = await infer(app.url, { 'x-request-id': 'bad-1' }, '{"inputs": [');
  assert.equal(bad.status, 400);
  const missing = await fetch(`${app.url}/v2/models/nope/infer`, { method: 'POST', body: BODY, headers: { 'x-request-id': 'nope-1' } });
  assert.equal(missing.status, 404);

  const access = lines.slice(before).filter((l) => l.msg === 'request');
  assert.equal(access.length, 5, JSON.stringify(lines.slice(before)));
  const byId = new Map(access.map((l) => [l.req_id, l]));
  const ok = byId.get('client-abc.123')!;
  assert.equal(ok.level, 30);
  assert.equal(ok.method, 'POST');
  assert.equal(ok.url, '/v2/models/mlp/infer');
  assert.equal(ok.status, 200);
  assert.equal(ok.model, 'mlp');
  assert.equal(ok.version, 1);
  assert.equal(ok.batch_rows, 1);
  for (const k of ['duration_ms', 'queue_ms', 'compute_ms']) assert.ok(typeof ok[k] === 'number' && (ok[k] as number) >= 0, k);
  assert.ok((ok.duration_ms as number) >= (ok.compute_ms as number));
  assert.equal(byId.get(generatedId)?.status, 200);
  assert.equal(byId.get('bad-1')?.status, 400);
  assert.equal(byId.get('bad-1')?.model, 'mlp');
  assert.equal(byId.get('nope-1')?.status, 404);
  const all = JSON.stringify(lines);
  assert.ok(!all.includes('1.2345678') && !all.includes('4.5678912'), 'no tensor contents in logs');
});

test('access log: a level above info writes no access lines; --no-access-log turns them off at info', async (t) => {
  const warn = capture('warn');
  const quiet = await startApp({ repository: repo(t), host: '127.0.0.1', port: 0, bodyLimitBytes: 1 << 20, logger: warn.logger });
  t.after(() => quiet.close());
  await infer(quiet.url);
  assert.equal(warn.lines.filter((l) => l.msg === 'request').length, 0);

  const info = capture('info');
  const off = await startApp({ repository: repo(t), host: '127.0.0.1', port: 0, bodyLimitBytes: 1 << 20, logger: info.logger, accessLog: false });
  t.after(() => off.close());
  const res = await infer(off.url, { 'x-request-id': 'still-echoed' });
  assert.equal(res.headers.get('x-request-id'), 'still-echoed');
  assert.equal(info.lines.filter((l) => l.msg === 'request').length, 0);
});

test('serve options: log level, tracing endpoint and sample ratio are validated and named in errors', () => {
  assert.equal(parseServeOptions({ repository: 'r', logLevel: 'debug' }).logLevel, 'debug');
  assert.throws(() => parseServeOptions({ repository: 'r', logLevel: 'loud' }), /--log-level/);
  assert.throws(() => parseServeOptions({ repository: 'r', otlpEndpoint: 'collector:4318' }), /--otlp-endpoint/);
  assert.throws(() => parseServeOptions({ repository: 'r', traceSampleRatio: '2' }), /--trace-sample-ratio/);
  assert.equal(parseServeOptions({ repository: 'r', otlpEndpoint: 'http://127.0.0.1:4318' }).otlpEndpoint, 'http://127.0.0.1:4318');
});
