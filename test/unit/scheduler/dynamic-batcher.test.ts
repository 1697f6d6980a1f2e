import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from './fake-clock.js';
import { flush, harness } from './harness.js';

test('scheduler: requests that arrive in the same event-loop turn share a batch, even when an instance is idle', async () => {
  const h = harness({ max_batch_size: 8 }, 1, [2], new FakeClock({ deferring: true }));
  const outcomes = [1, 2, 3].map((t) => h.submit(t));
  assert.deepEqual(h.batchTags(), [], 'nothing runs before the turn\'s I/O is handled');
  h.clock.runDeferred();
  assert.deepEqual(h.batchTags(), [[1, 2, 3]]);
  // While it runs, more arrive; when it finishes, they go together in the next turn.
  h.submit(4);
  h.submit(5);
  h.clock.runDeferred();
  assert.deepEqual(h.batchTags(), [[1, 2, 3]], 'the instance is busy');
  h.instances[0]!.finishNext();
  await flush();
  h.clock.runDeferred();
  assert.deepEqual(h.batchTags(), [[1, 2, 3], [4, 5]]);
  h.instances[0]!.finishNext();
  await flush();
  assert.ok(outcomes.every((o) => o.settled && o.outputs));
});

test('scheduler: while the instance is busy, queued requests form one batch up to max_batch_size', async () => {
  const h = harness({ max_batch_size: 4 });
  h.submit(1);
  const rest = [2, 3, 4, 5, 6, 7].map((t) => h.submit(t));
  assert.deepEqual(h.batchTags(), [[1]]);
  h.instances[0]!.finishNext();
  await flush();
  assert.deepEqual(h.batchTags(), [[1], [2, 3, 4, 5]]);
  h.instances[0]!.finishNext();
  await flush();
  assert.deepEqual(h.batchTags(), [[1], [2, 3, 4, 5], [6, 7]]);
  h.instances[0]!.finishNext();
  await flush();
  assert.ok(rest.every((o) => o.settled && o.outputs));
});

test('scheduler: a request with its own batch is never split across two batches', async () => {
  const h = harness({ max_batch_size: 8 });
  h.submit(1);
  h.submit(2, 3);
  h.submit(3, 3);
  h.submit(4, 3);
  h.instances[0]!.finishNext();
  await flush();
  // 3 + 3 fit in 8; the third request's 3 rows would make 9, so it waits for the next batch whole.
  assert.deepEqual(h.batchTags().slice(1), [[2, 2, 2, 3, 3, 3]]);
  h.instances[0]!.finishNext();
  await flush();
  assert.deepEqual(h.batchTags().slice(2), [[4, 4, 4]]);
});

test('scheduler: outputs are sliced back to each request in order', async () => {
  const h = harness({ max_batch_size: 8 });
  h.submit(9);
  const a = h.submit(1, 2);
  const b = h.submit(2, 1);
  const c = h.submit(3, 3);
  h.instances[0]!.finishNext();
  await flush();
  h.instances[0]!.finishNext();
  await flush();
  for (const [o, tag, rows] of [[a, 1, 2], [b, 2, 1], [c, 3, 3]] as const) {
    const out = o.outputs!.get('out_x')!;
    assert.deepEqual(out.shape, [rows, 2]);
    const expected = [];
    for (let r = 0; r < rows; r++) expected.push(tag + r / 10, tag + r / 10 + 0.01);
    assert.deepEqual(Array.from(out.data as Float32Array), Array.from(new Float32Array(expected)));
  }
});

test('scheduler: max_queue_delay_us holds an idle instance for a fuller batch, then sends', async () => {
  const h = harness({ max_batch_size: 4, dynamic_batching: { max_queue_delay_us: 1000 } });
  h.submit(1);
  h.clock.advance(400);
  h.submit(2);
  assert.equal(h.instances[0]!.batches.length, 0, 'waits while the oldest request is younger than the delay');
  h.clock.advance(599);
  assert.equal(h.instances[0]!.batches.length, 0);
  h.clock.advance(1);
  assert.deepEqual(h.batchTags(), [[1, 2]]);
});

test('scheduler: reaching max_batch_size sends at once, without waiting for the delay', () => {
  const h = harness({ max_batch_size: 3, dynamic_batching: { max_queue_delay_us: 1_000_000 } });
  h.submit(1);
  h.submit(2);
  assert.equal(h.instances[0]!.batches.length, 0);
  h.submit(3);
  assert.deepEqual(h.batchTags(), [[1, 2, 3]]);
});

test('scheduler: a preferred batch size is sent at once; the remainder waits for the delay', () => {
  const h = harness({ max_batch_size: 8, dynamic_batching: { max_queue_delay_us: 5000, preferred_batch_sizes: [2, 4] } });
  h.submit(1);
  h.submit(2);
  assert.deepEqual(h.batchTags(), [[1, 2]], 'size 2 is preferred');
});

test('scheduler: higher priority levels are served first', async () => {
  const h = harness({ max_batch_size: 2, dynamic_batching: { priority_levels: 2, default_priority_level: 2 } });
  h.submit(1);
  h.submit(2);
  h.submit(3);
  h.submit(4, 1, { priority: 1 });
  h.submit(5, 1, { priority: 1 });
  h.instances[0]!.finishNext();
  await flush();
  assert.deepEqual(h.batchTags().slice(1), [[4, 5]]);
  h.instances[0]!.finishNext();
  await flush();
  assert.deepEqual(h.batchTags().slice(2), [[2, 3]]);
});

test('scheduler: a full queue refuses with MP_OVERLOADED and a Retry-After', async () => {
  const h = harness({ max_batch_size: 1, dynamic_batching: { default_queue_policy: { max_queue_size: 2 } } });
  h.submit(1);
  h.submit(2);
  h.submit(3);
  const refused = h.submit(4);
  await flush();
  assert.equal(refused.error?.code, 'MP_OVERLOADED');
  assert.equal(refused.error?.status, 429);
  assert.ok((refused.error?.retryAfterSeconds ?? 0) >= 1);
});

test('scheduler: a request still queued at its deadline is rejected with MP_QUEUE_TIMEOUT', async () => {
  const h = harness({ max_batch_size: 1, dynamic_batching: { default_queue_policy: { default_timeout_us: 500 } } });
  const running = h.submit(1);
  const queued = h.submit(2);
  h.clock.advance(499);
  await flush();
  assert.equal(queued.settled, false);
  h.clock.advance(1);
  await flush();
  assert.equal(queued.error?.code, 'MP_QUEUE_TIMEOUT');
  assert.equal(queued.error?.status, 503);
  h.instances[0]!.finishNext();
  await flush();
  assert.ok(running.outputs, 'the running request is not affected');
  assert.equal(h.instances[0]!.batches.length, 1, 'the expired request never runs');
});

test('scheduler: time a request already spent before submission (receiving, parsing) counts against its timeout', async () => {
  const h = harness({ max_batch_size: 1, dynamic_batching: { default_queue_policy: { default_timeout_us: 500 } } });
  h.submit(1);
  const late = h.submit(2, 1, { elapsedUs: 400 });
  const fresh = h.submit(3);
  h.clock.advance(100);
  await flush();
  assert.equal(late.error?.code, 'MP_QUEUE_TIMEOUT', '400 µs before + 100 µs queued = its 500 µs');
  assert.equal(fresh.settled, false);
});

test('scheduler: the timeout parameter overrides the default only where allowed', async () => {
  const allowed = harness({ max_batch_size: 1, dynamic_batching: { default_queue_policy: { default_timeout_us: 10_000, allow_timeout_override: true } } });
  allowed.submit(1);
  const short = allowed.submit(2, 1, { timeoutUs: 100 });
  allowed.clock.advance(100);
  await flush();
  assert.equal(short.error?.code, 'MP_QUEUE_TIMEOUT');

  const denied = harness({ max_batch_size: 1, dynamic_batching: { default_queue_policy: { default_timeout_us: 10_000 } } });
  denied.submit(1);
  const ignored = denied.submit(2, 1, { timeoutUs: 100 });
  denied.clock.advance(100);
  await flush();
  assert.equal(ignored.settled, false);
});

test('scheduler: once batches have been timed, a request that cannot meet its deadline is refused at once', async () => {
  const h = harness({ max_batch_size: 1, dynamic_batching: { default_queue_policy: { default_timeout_us: 0, allow_timeout_override: true } } });
  h.submit(1);
  h.clock.advance(1000); // the batch takes 1 ms
  h.instances[0]!.finishNext();
  await flush();
  h.submit(2); // running
  for (let t = 3; t < 8; t++) h.submit(t); // five queued, ~5 ms of work ahead
  const hopeless = h.submit(99, 1, { timeoutUs: 2000 });
  await flush();
  assert.equal(hopeless.error?.code, 'MP_QUEUE_TIMEOUT');
  const patient = h.submit(100, 1, { timeoutUs: 60_000 });
  await flush();
  assert.equal(patient.settled, false);
});

test('scheduler: requests whose non-batch shapes differ are not mixed', async () => {
  const h = harness({ max_batch_size: 8 }, 1, [-1]);
  h.submit(1, 1, {}, 2);
  h.submit(2, 1, {}, 2);
  h.submit(3, 1, {}, 3);
  h.submit(4, 1, {}, 2);
  h.instances[0]!.finishNext();
  await flush();
  // Triton's rule: the batch closes at the first incompatible request, so order is kept.
  assert.deepEqual(h.batchTags().slice(1), [[2]]);
  h.instances[0]!.finishNext();
  await flush();
  assert.deepEqual(h.batchTags().slice(2), [[3]]);
});

test('scheduler: padding lets different lengths share a batch and trims outputs back', async () => {
  const h = harness(
    {
      max_batch_size: 8,
      dynamic_batching: { padding: { inputs: { x: { dim: 0, value: -1 } }, outputs: { out_x: { dim: 0, input: 'x' } } } },
    },
    1,
    [-1],
  );
  h.submit(9, 1, {}, 1);
  const short = h.submit(1, 1, {}, 2);
  const long = h.submit(2, 2, {}, 4);
  h.instances[0]!.finishNext();
  await flush();
  const batch = h.instances[0]!.batches[1]!.get('x')!;
  assert.deepEqual(batch.shape, [3, 4]);
  assert.deepEqual(Array.from(batch.data as Float32Array).slice(0, 4), [1, 1.01, -1, -1].map(Math.fround));
  h.instances[0]!.finishNext();
  await flush();
  const s = short.outputs!.get('out_x')!;
  assert.deepEqual(s.shape, [1, 2]);
  assert.deepEqual(Array.from(s.data as Float32Array), [1, 1.01].map(Math.fround));
  const l = long.outputs!.get('out_x')!;
  assert.deepEqual(l.shape, [2, 4]);
  assert.equal((l.data as Float32Array)[4], Math.fround(2.1));
});

test('scheduler: every instance is kept busy and batches spread across instances', async () => {
  const h = harness({ max_batch_size: 2 }, 2);
  h.submit(1);
  h.submit(2);
  assert.equal(h.instances[0]!.running + h.instances[1]!.running, 2, 'both instances run at once');
  for (let t = 3; t <= 10; t++) h.submit(t);
  for (let round = 0; round < 6; round++) {
    h.instances[0]!.finishNext();
    h.instances[1]!.finishNext();
    await flush();
  }
  const a = h.instances[0]!.batches.length;
  const b = h.instances[1]!.batches.length;
  assert.equal(a + b, 6);
  assert.ok(Math.abs(a - b) <= 1, `instances ran ${a} and ${b} batches`);
});

test('scheduler: a cancelled queued request is dropped, answered MP_CANCELLED, and never run', async () => {
  const h = harness({ max_batch_size: 4 });
  h.submit(1);
  const controller = new AbortController();
  const gone = h.submit(2, 1, { signal: controller.signal });
  const kept = h.submit(3);
  controller.abort();
  await flush();
  assert.equal(gone.error?.code, 'MP_CANCELLED');
  h.instances[0]!.finishNext();
  await flush();
  assert.deepEqual(h.batchTags().slice(1), [[3]]);
  h.instances[0]!.finishNext();
  await flush();
  assert.ok(kept.outputs);
  assert.equal(h.batcher.queued, 0);
});

test('scheduler: without a dynamic_batching block requests run one at a time', async () => {
  const h = harness({ max_batch_size: 8, dynamic_batching: undefined });
  h.submit(1);
  h.submit(2);
  h.submit(3);
  h.instances[0]!.finishNext();
  await flush();
  h.instances[0]!.finishNext();
  await flush();
  assert.deepEqual(h.batchTags(), [[1], [2], [3]]);
});

test('scheduler: delay_until_queued holds batching until enough requests arrive', () => {
  const h = harness({ max_batch_size: 8, dynamic_batching: { delay_until_queued: 3 } });
  h.submit(1);
  h.submit(2);
  h.clock.advance(10_000_000);
  assert.equal(h.instances[0]!.batches.length, 0);
  h.submit(3);
  assert.deepEqual(h.batchTags(), [[1, 2, 3]]);
});

test('scheduler: close(false) refuses new work but finishes queued and running requests', async () => {
  const h = harness({ max_batch_size: 1 });
  const a = h.submit(1);
  const b = h.submit(2);
  h.batcher.close(false);
  const c = h.submit(3);
  await flush();
  assert.equal(c.error?.code, 'MP_SHUTTING_DOWN');
  const idle = h.batcher.whenIdle();
  h.instances[0]!.finishNext();
  await flush();
  h.instances[0]!.finishNext();
  await idle;
  await flush();
  assert.ok(a.outputs && b.outputs);
});

/** Max batch 8, a 1 ms adaptive queue delay, and a clock whose deferred pumps the test runs. */
function adaptiveHarness() {
  return harness({ max_batch_size: 8, dynamic_batching: { max_queue_delay_us: 1000, adaptive_queue_delay: true } }, 1, [2], new FakeClock({ deferring: true }));
}

/** Finishes the running batch and lets the scheduler pump as the event loop would. */
async function finishAndRunDeferred(h: ReturnType<typeof adaptiveHarness>): Promise<void> {
  h.instances[0]!.finishNext();
  await flush();
  h.clock.runDeferred();
}

test('scheduler: adaptive queue delay sends a lone client at once and waits, from the moment the instance frees, only for the clients expected back', async () => {
  const h = adaptiveHarness();
  const finish = () => finishAndRunDeferred(h);
  h.submit(1);
  h.clock.runDeferred();
  assert.deepEqual(h.batchTags(), [[1]], 'nothing known yet: no wait');
  await finish();
  h.submit(2);
  h.clock.runDeferred();
  assert.deepEqual(h.batchTags().at(-1), [2], 'one client active: no wait at concurrency 1');
  await finish();
  h.submit(3);
  h.clock.runDeferred();
  h.submit(4); // a second client arrives while [3] runs
  h.clock.runDeferred();
  h.clock.advance(2000);
  await finish();
  assert.deepEqual(h.batchTags().at(-1), [3], '1 queued < 2 active: wait for the client of [3]');
  h.clock.advance(300);
  h.submit(5);
  h.clock.runDeferred();
  assert.deepEqual(h.batchTags().at(-1), [4, 5], 'both clients in: sent at once');
  await finish();
  h.submit(6);
  h.clock.runDeferred();
  h.clock.advance(999);
  await flush();
  assert.deepEqual(h.batchTags().at(-1), [4, 5]);
  h.clock.advance(1);
  await flush();
  assert.deepEqual(h.batchTags().at(-1), [6], 'never longer than max_queue_delay_us after the instance freed');
  await finish();
  h.submit(7);
  h.clock.runDeferred();
  assert.deepEqual(h.batchTags().at(-1), [7], 'the load fell to one client: no wait again');
});

test('scheduler: adaptive queue delay fills a batch with the clients of the previous one (closed loop)', async () => {
  const h = adaptiveHarness();
  const finish = () => finishAndRunDeferred(h);
  // Eight clients split 4 + 4: the first 4 run while the other 4 queue (load 8).
  [1, 2, 3, 4].forEach((t) => h.submit(t));
  h.clock.runDeferred();
  [5, 6, 7, 8].forEach((t) => h.submit(t));
  h.clock.runDeferred();
  await finish();
  assert.deepEqual(h.batchTags().at(-1), [1, 2, 3, 4], '4 queued < 8 expected: the first 4 clients are coming back');
  [11, 12, 13, 14].forEach((t) => h.submit(t));
  h.clock.runDeferred();
  assert.deepEqual(h.batchTags().at(-1), [5, 6, 7, 8, 11, 12, 13, 14], 'one full batch instead of alternating halves');
});

test('scheduler: without adaptive queue delay the delay counts from the oldest request (Triton)', async () => {
  const h = harness({ max_batch_size: 8, dynamic_batching: { max_queue_delay_us: 1000 } });
  h.submit(1);
  assert.deepEqual(h.batchTags(), [], 'waits for a fuller batch');
  h.clock.advance(1000);
  await flush();
  assert.deepEqual(h.batchTags(), [[1]]);
});

test('scheduler: a finished batch is answered a slice per event-loop turn, with the rows each request sent', async () => {
  const h = harness({ max_batch_size: 20 }, 1, [2], new FakeClock({ deferring: true }));
  const outcomes = Array.from({ length: 20 }, (_, i) => h.submit(i + 1));
  h.clock.runDeferred();
  assert.equal(h.batchTags().length, 1);
  let idle = false;
  void h.batcher.whenIdle().then(() => (idle = true));
  h.instances[0]!.finishNext();
  await flush();
  assert.deepEqual(outcomes.map((o) => o.settled), outcomes.map((_, i) => i < 8), 'the first slice only, until the turn\'s I/O is handled');
  assert.equal(idle, false, 'not idle while answers are still going out');
  h.clock.runDeferred();
  await flush();
  assert.ok(outcomes.every((o) => o.settled && o.outputs));
  for (const [i, o] of outcomes.entries()) {
    assert.deepEqual([...(o.outputs!.get('out_x')!.data as Float32Array)].map((v) => Math.round(v * 100) / 100), [i + 1, i + 1.01]);
  }
  assert.equal(idle, true);
});

test('scheduler: a full batch is sent at once, without waiting for the turn that lets more requests join', () => {
  const h = harness({ max_batch_size: 4 }, 1, [2], new FakeClock({ deferring: true }));
  for (const t of [1, 2, 3]) h.submit(t);
  assert.deepEqual(h.batchTags(), [], 'not full: waits for the turn');
  h.submit(4);
  assert.deepEqual(h.batchTags(), [[1, 2, 3, 4]]);
});
