import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import { startApp } from '../../src/app.js';
import { buildMlpModel } from '../../scripts/lib/mlp-model.js';

const MLP = buildMlpModel({ features: 8, hidden: [16], classes: 3, seed: 5 });

async function serveMlp(t: { after(fn: () => unknown): void }, dynamicBatching: Record<string, unknown>) {
  const root = mkdtempSync(join(tmpdir(), 'mp-batch-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'mlp', '1'), { recursive: true });
  writeFileSync(join(root, 'mlp', '1', 'model.onnx'), MLP);
  writeFileSync(join(root, 'mlp', 'config.json'), JSON.stringify({ name: 'mlp', max_batch_size: 16, dynamic_batching: dynamicBatching }));
  const app = await startApp({ repository: root, host: '127.0.0.1', port: 0, bodyLimitBytes: 1 << 20, logger: false });
  t.after(() => app.close());
  return app;
}

function body(rows: number, seed: number): string {
  const data = Array.from({ length: rows * 8 }, (_, i) => Math.sin(seed * 31 + i));
  return JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [rows, 8], data }], outputs: [{ name: 'logits' }, { name: 'label' }] });
}

async function infer(url: string, payload: string, signal?: AbortSignal): Promise<{ status: number; json: { outputs?: Array<{ name: string; shape: number[]; data: number[] }>; error?: string }; headers: Headers }> {
  const res = await fetch(`${url}/v2/models/mlp/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload, signal: signal ?? null });
  return { status: res.status, json: (await res.json()) as never, headers: res.headers };
}

async function stats(url: string): Promise<{ inference_count: number; execution_count: number; rejected: Record<string, number> }> {
  const res = await fetch(`${url}/v2/models/mlp/versions/1/stats`);
  return ((await res.json()) as { model_stats: never[] }).model_stats[0]!;
}

test('batching over HTTP: concurrent requests get the results they get one by one', async (t) => {
  const app = await serveMlp(t, { max_queue_delay_us: 20_000 });
  const payloads = Array.from({ length: 24 }, (_, i) => body(1 + (i % 3), i));
  const alone: unknown[] = [];
  for (const p of payloads) alone.push((await infer(app.url, p)).json.outputs);
  const before = await stats(app.url);
  const together = await Promise.all(payloads.map((p) => infer(app.url, p)));
  const after = await stats(app.url);
  together.forEach((r, i) => {
    assert.equal(r.status, 200);
    const outputs = r.json.outputs!;
    const expected = alone[i] as typeof outputs;
    assert.deepEqual(outputs.map((o) => o.shape), expected.map((o) => o.shape));
    assert.deepEqual(outputs[1]!.data, expected[1]!.data, 'labels are identical');
    outputs[0]!.data.forEach((v, j) => assert.ok(Math.abs(v - expected[0]!.data[j]!) <= 1e-5 * Math.max(1, Math.abs(v)), `logit ${j} of request ${i}: ${v} vs ${expected[0]!.data[j]}`));
  });
  const rows = payloads.reduce((n, _, i) => n + 1 + (i % 3), 0);
  assert.equal(after.inference_count - before.inference_count, rows);
  assert.ok(after.execution_count - before.execution_count < payloads.length, 'requests were batched together');
});

test('batching over HTTP: a full queue answers 429 with Retry-After, queued requests time out with 503, the server stays up', async (t) => {
  // delay_until_queued holds every request in the queue (never reached), so the queue fills deterministically.
  const app = await serveMlp(t, { delay_until_queued: 1000, default_queue_policy: { max_queue_size: 4, default_timeout_us: 300_000 } });
  const held = Array.from({ length: 4 }, (_, i) => infer(app.url, body(1, i)));
  await new Promise((r) => setTimeout(r, 100));
  const refused = await infer(app.url, body(1, 9));
  assert.equal(refused.status, 429);
  assert.match(refused.json.error!, /queue is full/);
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);
  const timedOut = await Promise.all(held);
  for (const r of timedOut) {
    assert.equal(r.status, 503);
    assert.match(r.json.error!, /timed out/);
  }
  assert.equal((await fetch(`${app.url}/v2/health/live`)).status, 200);
  const s = await stats(app.url);
  assert.equal(s.rejected.MP_OVERLOADED, 1);
  assert.equal(s.rejected.MP_QUEUE_TIMEOUT, 4);
});

/** POSTs over the given agent; resolves status, body and whether the socket was reused. */
function post(agent: http.Agent, url: string, payload: string): Promise<{ status: number; text: string; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/v2/models/mlp/infer`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve({ status: res.statusCode ?? 0, text, reused: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

test('batching over HTTP: under overload a refusal is answered without reading the body, and the connection stays usable', async (t) => {
  const app = await serveMlp(t, { delay_until_queued: 1000, default_queue_policy: { max_queue_size: 2, default_timeout_us: 400_000 } });
  const held = Array.from({ length: 2 }, (_, i) => infer(app.url, body(1, i)));
  await new Promise((r) => setTimeout(r, 100));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const big = body(16, 7); // ~2.5 KB of JSON numbers per row: a body worth not parsing
  const first = await post(agent, app.url, big);
  const second = await post(agent, app.url, big);
  assert.equal(first.status, 429);
  assert.match(first.text, /queue is full/);
  assert.equal(second.status, 429);
  assert.equal(second.reused, true, 'the unread body was drained: the keep-alive connection carries the next request');
  const unparsed = await post(agent, app.url, '{"inputs": [ this is not JSON');
  assert.equal(unparsed.status, 429, 'refused from the headers: the body was never parsed');
  // The held requests time out in the queue (503); the refused ones never entered it.
  for (const r of await Promise.all(held)) assert.equal(r.status, 503);
  const s = await stats(app.url);
  assert.equal(s.rejected.MP_OVERLOADED, 3);
  assert.equal(s.rejected.MP_QUEUE_TIMEOUT, 2);
});

test('batching over HTTP: a client that hangs up drops its queued request', async (t) => {
  const app = await serveMlp(t, { delay_until_queued: 3 });
  const controller = new AbortController();
  const gone = infer(app.url, body(1, 1), controller.signal).catch((err: Error) => err);
  await new Promise((r) => setTimeout(r, 100));
  controller.abort();
  assert.ok((await gone) instanceof Error);
  for (let i = 0; i < 50 && (await stats(app.url)).rejected.MP_CANCELLED !== 1; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal((await stats(app.url)).rejected.MP_CANCELLED, 1);
  const rest = await Promise.all([2, 3, 4].map((i) => infer(app.url, body(1, i))));
  assert.deepEqual(rest.map((r) => r.status), [200, 200, 200]);
  const s = await stats(app.url);
  assert.equal(s.inference_count, 3, 'the cancelled request never ran');
  assert.equal(s.execution_count, 1);
});
