import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { steadyRatePerSecond } from '../../../bench/lib/stats.js';
import { runClosedLoop } from '../../../bench/lib/closed-loop.js';
import { runOpenLoop } from '../../../bench/lib/open-loop.js';

test('bench stats: the steady rate of a batch staircase is its rate, whatever the ramp and the drain', () => {
  // 64 answers every 80 ms (800/s), after a slow start (one lone answer at 0 ms, the first batch at 300 ms)
  // and with a straggler batch after the clients stopped at 3,000 ms.
  const times: number[] = [0];
  for (let t = 300; t <= 3000; t += 80) for (let i = 0; i < 64; i++) times.push(t + i * 0.02);
  for (let i = 0; i < 64; i++) times.push(3500 + i * 0.02);
  const rate = steadyRatePerSecond(times, 500, 3000);
  assert.ok(Math.abs(rate - 800) < 800 * 0.02, `rate ${rate}`);
  // The whole-run count would say otherwise: that is the error the steady rate removes.
  assert.ok(times.length / 3.5 < 700);
  assert.ok(Number.isNaN(steadyRatePerSecond([5], 0)));
});

async function server(t: { after(fn: () => unknown): void }, status: (n: number) => number): Promise<string> {
  let n = 0;
  const srv = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const code = status(n++);
      const body = code === 503 ? '{"error":"request timed out after 9 µs in the queue"}' : '{}';
      res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => srv.close(resolve)));
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}/v2/models/m/infer`;
}

test('bench closed loop: every connection keeps one request in flight; 200s and refusals are told apart', async (t) => {
  const url = await server(t, (n) => (n % 4 === 3 ? 429 : 200));
  const r = await runClosedLoop({ url, body: Buffer.from('{}'), headers: { 'content-type': 'application/json' }, connections: 4, durationSeconds: 0.3 });
  assert.equal(r.errors, 0);
  assert.ok(r.okMs.length > 20, `ok ${r.okMs.length}`);
  assert.equal(r.status[200], r.okMs.length);
  assert.equal(r.status[429], r.refusedMs.length);
  assert.ok(Math.abs(r.refusedMs.length - (r.okMs.length + r.refusedMs.length) / 4) <= 4);
  assert.deepEqual([...r.okCompletedMs].sort((a, b) => a - b), r.okCompletedMs);
});

test('bench open loop: sends the scheduled count on time; refusals and queue timeouts are told apart', async (t) => {
  const url = await server(t, (n) => (n % 3 === 1 ? 429 : n % 3 === 2 ? 503 : 200));
  const r = await runOpenLoop({ url, body: Buffer.from('{}'), headers: { 'content-type': 'application/json' }, connections: 8, durationSeconds: 0.5, ratePerSecond: 200 });
  assert.equal(r.okMs.length + r.refusedMs.length + r.expiredMs.length, 100);
  assert.equal(r.errors, 0);
  assert.ok(r.refusedMs.length >= 30 && r.expiredMs.length >= 30, JSON.stringify(r.status));
  assert.equal(r.refusedFromSendMs.length, r.refusedMs.length);
  assert.equal(r.sendLagMs.length, 100);
  assert.ok(r.seconds >= 0.49 && r.seconds < 3, `seconds ${r.seconds}`);
});
