import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchTimer } from '../../../src/scheduler/batch-timer.js';
import { MpError } from '../../../src/errors.js';
import { FakeClock } from './fake-clock.js';
import { flush, harness } from './harness.js';

test('batch timer: estimates by batch size, scales an unseen size from the nearest seen one, and is pessimistic by the spread', () => {
  const t = new BatchTimer();
  assert.equal(t.known, false);
  assert.equal(t.budgetUs(8), 0, 'nothing timed: no estimate (admit)');
  for (let i = 0; i < 50; i++) t.record(1, 1000);
  for (let i = 0; i < 50; i++) t.record(64, i % 2 === 0 ? 9000 : 11_000);
  assert.equal(t.known, true);
  assert.ok(Math.abs(t.expectedUs(1) - 1000) < 1, 'steady size-1 batches: their own time');
  assert.ok(Math.abs(t.budgetUs(1) - 1000) < 1, 'no spread: budget = mean');
  const mean64 = t.expectedUs(64);
  assert.ok(mean64 > 9000 && mean64 < 11_000);
  assert.ok(t.budgetUs(64) > mean64 + 1000, 'spread of ±1 ms: budget above the mean by about twice the deviation');
  assert.ok(t.budgetUs(64) < mean64 + 3000);
  // 40 rows are in the 64 class; 3 rows (class 4) were never seen: the nearest seen class is 1 or 2
  // classes away: from below it scales by the size ratio of the classes (pessimistic).
  assert.ok(Math.abs(t.expectedUs(40) - mean64) < 1);
  assert.equal(t.expectedUs(2), 2000, 'size 2 (never seen) from size 1 (measured), twice the rows');
  assert.equal(t.expectedUs(3), 3000, 'size 3 (never seen) from size 1, three times the rows');
  assert.ok(Math.abs(t.expectedUs(128) - 2 * mean64) < 1, 'above every seen size: scaled up from the largest');
});

test('batch timer: a stale figure for large batches is capped by the smaller batches measured since, scaled by rows', () => {
  const t = new BatchTimer();
  // One slow batch of 64 (a cold start), then only batches of 32 at 47 ms: the 64 figure is stale.
  t.record(64, 400_000);
  for (let i = 0; i < 50; i++) t.record(32, 47_000);
  assert.ok(Math.abs(t.expectedUs(64) - 94_000) < 1, `64 rows: twice the 32-row time, not the stale 400 ms (${t.expectedUs(64)})`);
  assert.ok(t.budgetUs(64) < 100_000);
  // Once batches of 64 are measured again their own figure counts, even where it exceeds the linear cap.
  for (let i = 0; i < 50; i++) t.record(64, 120_000);
  assert.ok(Math.abs(t.expectedUs(64) - 120_000) < 1000, `fresh 64-row figure: ${t.expectedUs(64)}`);
  // A smaller class measured before it does not cap it.
  assert.ok(Math.abs(t.expectedUs(48) - 120_000) < 1000);
});

test('scheduler: admission uses the time of a batch the size of the one a request will join', async () => {
  const h = harness({ max_batch_size: 8, dynamic_batching: { default_queue_policy: { default_timeout_us: 0, allow_timeout_override: true } } });
  // Teach it: 1 row takes 1 ms, 8 rows take 8 ms.
  h.submit(1);
  [2, 3, 4, 5, 6, 7, 8, 9].forEach((t) => h.submit(t)); // queued while [1] runs
  h.clock.advance(1000);
  h.instances[0]!.finishNext();
  await flush();
  h.clock.advance(8000);
  h.instances[0]!.finishNext();
  await flush();
  assert.deepEqual(h.batchTags(), [[1], [2, 3, 4, 5, 6, 7, 8, 9]]);
  // Busy with one row (started now, ~1 ms); a request with nothing ahead needs ~1 ms + its own ~1 ms.
  h.submit(20);
  await flush();
  const fits = h.submit(21, 1, { timeoutUs: 3500 });
  await flush();
  assert.equal(fits.error, undefined, String(fits.error));
  assert.equal(fits.settled, false, 'about 2 ms of work ahead of it: admitted with a 3.5 ms timeout');
  // Seven more queue: a full batch of 8 (~8 ms) is now ahead of the next one.
  for (let t = 22; t < 29; t++) h.submit(t);
  const late = h.submit(99, 1, { timeoutUs: 3500 });
  await flush();
  assert.equal(late.error?.code, 'MP_QUEUE_TIMEOUT', 'the batch of 8 ahead alone takes ~8 ms');
});

test('scheduler: an estimate longer than the timeout never refuses a request that can run at once', async () => {
  const h = harness({ max_batch_size: 4, dynamic_batching: { default_queue_policy: { default_timeout_us: 5000 } } });
  h.submit(1);
  h.clock.advance(50_000); // one slow batch (e.g. a cold start): 50 ms, ten times the timeout
  h.instances[0]!.finishNext();
  await flush();
  const next = h.submit(2);
  await flush();
  assert.equal(next.settled, false, 'queue empty and the instance idle: it runs, and its time refreshes the estimate');
  assert.equal(h.instances[0]!.batches.length, 2);
  h.clock.advance(1000);
  h.instances[0]!.finishNext();
  await flush();
  assert.ok(next.outputs);
});

test('scheduler: with an instance free, a queued request is expired only once its deadline has passed', async () => {
  const h = harness({ max_batch_size: 4, dynamic_batching: { max_queue_delay_us: 3000, default_queue_policy: { default_timeout_us: 0, allow_timeout_override: true } } });
  h.submit(1);
  h.clock.advance(3000); // sent after the queue delay
  await flush();
  h.clock.advance(1500); // batches take 1.5 ms
  h.instances[0]!.finishNext();
  await flush();
  const waiting = h.submit(2, 1, { timeoutUs: 2000 }); // idle instance, waits up to 3 ms for a fuller batch
  assert.equal(h.batcher.queued, 1);
  h.clock.advance(1000);
  await flush();
  assert.equal(waiting.settled, false, 'deadline less a batch has passed, but an instance is free: not expired');
  h.clock.advance(1000);
  await flush();
  assert.equal(waiting.error?.code, 'MP_QUEUE_TIMEOUT', 'past its deadline: expired, never run');
  assert.equal(h.instances[0]!.batches.length, 1);
});

test('scheduler: refusals decided before the body is read: only where the body cannot change them', async () => {
  const single = harness({ max_batch_size: 1, dynamic_batching: { default_queue_policy: { max_queue_size: 2 } } });
  assert.equal(single.batcher.refusesBeforeBody(0), null, 'empty queue');
  single.submit(1);
  single.submit(2);
  single.submit(3);
  await flush();
  assert.equal(single.batcher.refusesBeforeBody(0), 'MP_OVERLOADED', 'queue full (2 queued, 1 running)');
  assert.throws(() => single.ctx.admitBeforeBody(0), (err: unknown) => err instanceof MpError && err.status === 429 && (err.retryAfterSeconds ?? 0) >= 1);
  const json = single.ctx.statistics.toJSON('echo', 1) as { inference_stats: { fail: { count: number } } };
  assert.equal(json.inference_stats.fail.count, 1, 'counted as a failure');

  const levels = harness({ max_batch_size: 1, dynamic_batching: { priority_levels: 2, default_priority_level: 2, priority_queue_policy: { 2: { max_queue_size: 1 } } } });
  levels.submit(1);
  levels.submit(2);
  await flush();
  assert.equal(levels.batcher.refusesBeforeBody(0), null, 'a request may carry priority 1, whose queue has room');

  const override = harness({ max_batch_size: 1, dynamic_batching: { default_queue_policy: { default_timeout_us: 1000, allow_timeout_override: true } } });
  override.submit(1);
  override.clock.advance(5000);
  override.instances[0]!.finishNext();
  await flush();
  override.submit(2);
  override.submit(3);
  await flush();
  assert.equal(override.batcher.refusesBeforeBody(0), null, 'a request may carry a longer timeout');
});

test('scheduler: a refusal before the body is read when the deadline is out of reach', async () => {
  const h = harness({ max_batch_size: 1, dynamic_batching: { default_queue_policy: { default_timeout_us: 7000 } } });
  h.submit(1);
  h.clock.advance(2000);
  h.instances[0]!.finishNext();
  await flush();
  // Batches take 2 ms; the pessimistic budget of a first sample is 1.5 x that: 3 ms.
  h.submit(2); // running
  await flush();
  assert.equal(h.batcher.refusesBeforeBody(0), null, 'up to 3 ms until the instance frees + 3 ms of its own <= 7 ms');
  assert.equal(h.batcher.refusesBeforeBody(2000), 'MP_QUEUE_TIMEOUT', '2 ms already spent receiving: 6 ms > 5 ms left');
  h.submit(3); // queued
  await flush();
  assert.equal(h.batcher.refusesBeforeBody(0), 'MP_QUEUE_TIMEOUT', 'one ahead: 9 ms > 7 ms');
});

test('scheduler: one slow large batch does not keep admission from forming large batches afterwards', async () => {
  const h = harness({ max_batch_size: 8, dynamic_batching: { default_queue_policy: { default_timeout_us: 30_000 } } });
  const run = async (us: number) => {
    h.clock.advance(us);
    h.instances[0]!.finishNext();
    await flush();
  };
  // A cold start: one row takes 2 ms, then a batch of 8 takes 100 ms (more than three timeouts).
  h.submit(1);
  for (let t = 2; t < 10; t++) h.submit(t);
  await run(2000);
  await run(100_000);
  // Then batches of 4 rows take 4 ms, again and again.
  for (let k = 0; k < 5; k++) {
    h.submit(10 + k * 5);
    for (let t = 1; t < 5; t++) h.submit(10 + k * 5 + t);
    await run(1000);
    await run(4000);
  }
  // Five requests queue behind a lone one: the fifth makes a batch of 5 rows, the size class of the stale
  // 100 ms figure. Batches of 4 have taken 4 ms since, so 5 rows take about 5 ms: all admitted.
  h.submit(50);
  const queued = [51, 52, 53, 54, 55].map((t) => h.submit(t));
  await flush();
  for (const q of queued) assert.equal(q.error, undefined, String(q.error));
  await run(1000);
  await run(5000);
  assert.ok(queued.every((q) => q.settled && q.outputs));
  assert.deepEqual(h.batchTags().slice(-2), [[50], [51, 52, 53, 54, 55]]);
});

test('scheduler: admission and expiry leave room for a batch\'s answers going out, not only for its compute', async () => {
  const h = harness({ max_batch_size: 16, dynamic_batching: { default_queue_policy: { default_timeout_us: 35_000, allow_timeout_override: true } } }, 1, [2], new FakeClock({ deferring: true }));
  // One batch of 16: 10 ms of compute, then its second slice of answers goes out 6 ms after the first
  // (the event loop busy with other I/O in between). Budgets of a first sample: 15 ms and 9 ms.
  const first = Array.from({ length: 16 }, (_, i) => h.submit(i + 1));
  assert.equal(h.batchTags().length, 1);
  h.clock.advance(10_000);
  h.instances[0]!.finishNext();
  await flush();
  h.clock.advance(6_000);
  h.clock.runDeferred();
  await flush();
  assert.ok(first.every((o) => o.settled && o.outputs));

  const running = h.submit(100);
  h.clock.runDeferred();
  assert.deepEqual(h.batchTags().at(-1), [100]);
  // Next in line: up to 15 ms until the instance frees, 15 ms of its own batch, 9 ms of answers = 39 ms > 35 ms.
  // Counting compute alone (30 ms) it would be admitted, and answered late.
  const late = h.submit(101);
  await flush();
  assert.equal(late.error?.code, 'MP_QUEUE_TIMEOUT', String(late.error));

  // With a longer timeout it is admitted; queued behind the running batch, it expires once starting
  // later could no longer leave its compute and its answers inside the deadline.
  const patient = h.submit(102, 1, { timeoutUs: 60_000 });
  h.clock.runDeferred();
  await flush();
  assert.equal(patient.settled, false);
  h.clock.advance(60_000 - 15_000 - 9_000 - 1_000);
  await flush();
  assert.equal(patient.settled, false, '1 ms before its last start');
  h.clock.advance(2_000);
  await flush();
  assert.equal(patient.error?.code, 'MP_QUEUE_TIMEOUT', 'past deadline - batch budget - answer budget, the instance still busy');
  h.instances[0]!.finishNext();
  await flush();
  assert.ok(running.outputs);
});

test('scheduler: when an instance frees with a backlog, requests that can only be answered late give their place; without one they still run', async () => {
  const setup = async (queued: number[]) => {
    const h = harness({ max_batch_size: 2, dynamic_batching: { default_queue_policy: { default_timeout_us: 50_000 } } }, 1, [2], new FakeClock({ deferring: true }));
    const turn = async () => {
      await flush();
      h.clock.runDeferred();
    };
    h.submit(1, 2);
    await turn();
    h.clock.advance(10_000); // a batch of 2 takes 10 ms: budget 15 ms
    h.instances[0]!.finishNext();
    await turn();
    h.submit(2, 2);
    const waiting = queued.map((t) => h.submit(t));
    await turn();
    assert.ok(waiting.every((w) => !w.settled), 'all admitted: up to 15 + 15 (+ 15 for a second wave) ms < 50 ms');
    // This batch takes 30 ms: the budget grows to ~26 ms, so a request queued at 10 ms had to start by ~34 ms.
    h.clock.advance(30_000);
    h.instances[0]!.finishNext();
    await turn();
    return { h, waiting };
  };
  const backlog = await setup([5, 6, 7]);
  assert.deepEqual(backlog.waiting.map((w) => w.error?.code), ['MP_QUEUE_TIMEOUT', 'MP_QUEUE_TIMEOUT', 'MP_QUEUE_TIMEOUT'], 'three queued for a batch of two: none could be answered by 50 ms');
  assert.equal(backlog.h.batchTags().length, 2, 'no batch ran for them');
});

test('batch timer: a time that does not grow with rows (answering) is not capped by a small batch\'s figure', () => {
  const answers = new BatchTimer(false);
  const compute = new BatchTimer();
  for (const t of [answers, compute]) {
    t.record(64, 20_000);
    t.record(4, 0); // answered in one turn
  }
  assert.ok(answers.budgetUs(64) >= 20_000, `answers of 64: ${answers.budgetUs(64)} µs`);
  assert.ok(compute.budgetUs(64) < 1, 'compute: capped by rows times the small batch\'s per-row time, as designed');
  assert.ok(answers.budgetUs(16) >= 20_000, 'an unmeasured size takes the nearest measured larger one');
});
