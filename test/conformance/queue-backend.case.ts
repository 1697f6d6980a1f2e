/**
 * The one QueueBackend suite. Each backend's test file calls `runQueueConformance` with a factory that
 * returns a fresh, empty backend and a cleanup; every behaviour below must hold on both.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClaimedJob, QueueBackend, QueueEvent } from '../../src/queue/queue-backend.js';
import { backoffDelayMs } from '../../src/queue/backoff.js';
import { eventually } from '../helpers/eventually.js';

export interface BackendHandle {
  readonly backend: QueueBackend;
  cleanup(): Promise<void>;
}
export type BackendFactory = () => Promise<BackendHandle>;

const LEASE_MS = 500;
const Q = 'conf';

async function open(t: TestContext, factory: BackendFactory): Promise<QueueBackend> {
  const h = await factory();
  t.after(() => h.cleanup());
  return h.backend;
}

async function claimOne(b: QueueBackend, what: string): Promise<ClaimedJob> {
  return eventually(() => b.claim(Q, { leaseMs: LEASE_MS }), what);
}

export function runQueueConformance(name: string, factory: BackendFactory): void {
  test(`${name} queue: claims, completes and reports the result`, async (t) => {
    const b = await open(t, factory);
    const e = await b.enqueue({ queue: Q, payload: { x: 1 } });
    assert.equal(e.status, 'created');
    const job = await b.claim(Q, { leaseMs: LEASE_MS });
    assert.ok(job);
    assert.deepEqual(job.payload, { x: 1 });
    assert.equal(job.attempt, 1);
    assert.equal(await b.claim(Q, { leaseMs: LEASE_MS }), null, 'a leased job is not handed out twice');
    assert.equal(await b.complete(job, { y: 2 }), true);
    const info = await b.get(Q, job.id);
    assert.equal(info?.state, 'completed');
    assert.deepEqual(info?.result, { y: 2 });
    assert.equal(await b.complete(job, { y: 3 }), false, 'a finished job cannot be completed again');
  });

  test(`${name} queue: the same idempotency key returns the same job`, async (t) => {
    const b = await open(t, factory);
    const a = await b.enqueue({ queue: Q, payload: 1, idempotencyKey: 'order-7' });
    const again = await b.enqueue({ queue: Q, payload: 2, idempotencyKey: 'order-7' });
    const other = await b.enqueue({ queue: Q, payload: 3, idempotencyKey: 'order-8' });
    assert.ok(a.status !== 'full' && again.status !== 'full' && other.status !== 'full', 'no limit was set');
    assert.equal(a.status, 'created');
    assert.equal(again.status, 'existing');
    assert.equal(again.id, a.id);
    assert.notEqual(other.id, a.id);
    assert.equal((await b.depth(Q)).waiting, 2);
    const job = await claimOne(b, 'first job');
    await b.complete(job, null);
    const late = await b.enqueue({ queue: Q, payload: 9, idempotencyKey: 'order-7' });
    assert.deepEqual(late, { status: 'existing', id: a.id }, 'a completed job still answers for its key');
  });

  test(`${name} queue: claims by priority, then in submission order`, async (t) => {
    const b = await open(t, factory);
    for (const [p, label] of [[5, 'e'], [1, 'a'], [3, 'c'], [1, 'b'], [4, 'd']] as const) {
      await b.enqueue({ queue: Q, payload: label, priority: p });
    }
    const order: unknown[] = [];
    for (let i = 0; i < 5; i++) {
      const j = await b.claim(Q, { leaseMs: LEASE_MS });
      assert.ok(j);
      order.push(j.payload);
      await b.complete(j, null);
    }
    assert.deepEqual(order, ['a', 'b', 'c', 'd', 'e']);
  });

  test(`${name} queue: a delayed job is not claimable until its time`, async (t) => {
    const b = await open(t, factory);
    const e = await b.enqueue({ queue: Q, payload: 'later', delayMs: 1500 });
    assert.ok(e.status === 'created');
    assert.equal((await b.get(Q, e.id))?.state, 'delayed');
    assert.equal(await b.claim(Q, { leaseMs: LEASE_MS }), null);
    const job = await eventually(async () => {
      await b.promoteDelayed(Q);
      return b.claim(Q, { leaseMs: LEASE_MS });
    }, 'the delayed job');
    assert.equal(job.id, e.id);
  });

  test(`${name} queue: a failed attempt is retried after a backoff, keeping the attempt count`, async (t) => {
    const b = await open(t, factory);
    const e = await b.enqueue({ queue: Q, payload: 'flaky', retry: { maxAttempts: 3, backoffMs: 200, maxBackoffMs: 400, jitter: 0 } });
    assert.ok(e.status === 'created');
    const first = await claimOne(b, 'attempt 1');
    assert.equal(await b.fail(first, 'boom 1'), 'retrying');
    const info = await b.get(Q, e.id);
    assert.equal(info?.state, 'delayed', 'a retry waits out its backoff');
    assert.equal(info?.attemptsMade, 1);
    const second = await claimOne(b, 'attempt 2');
    assert.equal(second.id, e.id);
    assert.equal(second.attempt, 2);
    assert.equal(await b.complete(second, 'ok'), true);
    assert.equal((await b.get(Q, e.id))?.attemptsMade, 1, 'attemptsMade counts failed attempts only');
  });

  test(`${name} queue: backoff doubles per attempt, is capped, and jitter only shortens it`, () => {
    const p = { maxAttempts: 10, backoffMs: 100, maxBackoffMs: 1000, jitter: 0 };
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoffDelayMs(p, n)), [100, 200, 400, 800, 1000]);
    const jittered = { ...p, jitter: 0.5 };
    assert.equal(backoffDelayMs(jittered, 3, () => 0), 400);
    assert.equal(backoffDelayMs(jittered, 3, () => 0.999999), 200);
  });

  test(`${name} queue: moves a job to the DLQ after max attempts and redrives it`, async (t) => {
    const b = await open(t, factory);
    const e = await b.enqueue({ queue: Q, payload: 'doomed', retry: { maxAttempts: 2, backoffMs: 50, maxBackoffMs: 50, jitter: 0 } });
    assert.ok(e.status === 'created');
    const a1 = await claimOne(b, 'attempt 1');
    assert.equal(await b.fail(a1, 'bad input'), 'retrying');
    const a2 = await claimOne(b, 'attempt 2');
    assert.equal(a2.attempt, 2);
    assert.equal(await b.fail(a2, 'bad input again'), 'dead');
    const dead = await b.listDead(Q);
    assert.deepEqual(dead.map((d) => d.id), [e.id]);
    assert.equal(dead[0]?.error, 'bad input again');
    assert.equal(dead[0]?.attemptsMade, 2);
    assert.equal((await b.depth(Q)).dead, 1);
    assert.equal(await b.claim(Q, { leaseMs: LEASE_MS }), null, 'dead jobs are not delivered');

    assert.equal(await b.redrive(Q, e.id), 1);
    assert.equal((await b.depth(Q)).dead, 0);
    const again = await claimOne(b, 'redriven job');
    assert.equal(again.id, e.id);
    assert.equal(again.attempt, 1, 'a redriven job gets a fresh attempt budget');
    assert.equal(await b.complete(again, 'fixed'), true);
    assert.equal((await b.get(Q, e.id))?.state, 'completed');
  });

  test(`${name} queue: a non-retryable failure goes straight to the DLQ; redrive without id takes all`, async (t) => {
    const b = await open(t, factory);
    for (let i = 0; i < 3; i++) await b.enqueue({ queue: Q, payload: i, retry: { maxAttempts: 5 } });
    for (let i = 0; i < 3; i++) {
      const j = await claimOne(b, `job ${i}`);
      assert.equal(await b.fail(j, 'schema mismatch', { retryable: false }), 'dead');
    }
    assert.equal((await b.listDead(Q)).length, 3);
    assert.equal((await b.listDead(Q, { limit: 2 })).length, 2);
    assert.equal(await b.redrive(Q), 3);
    assert.equal((await b.depth(Q)).waiting, 3);
  });

  test(`${name} queue: cancels a waiting job at once and an active one at its next heartbeat`, async (t) => {
    const b = await open(t, factory);
    const w = await b.enqueue({ queue: Q, payload: 'w', idempotencyKey: 'cancel-me', priority: 5 });
    const a = await b.enqueue({ queue: Q, payload: 'a', priority: 1 });
    assert.ok(w.status !== 'full' && a.status !== 'full');
    const active = await claimOne(b, 'the active job');
    assert.equal(active.id, a.id);
    assert.equal(await b.cancel(Q, w.id), 'cancelled');
    assert.equal((await b.get(Q, w.id))?.state, 'cancelled');
    assert.equal(await b.claim(Q, { leaseMs: LEASE_MS }), null, 'a cancelled job is never delivered');
    assert.deepEqual(await b.enqueue({ queue: Q, payload: 'w', idempotencyKey: 'cancel-me' }), { status: 'existing', id: w.id });

    assert.equal(await b.cancel(Q, a.id), 'cancelling');
    assert.equal(await b.heartbeat(active, LEASE_MS), 'cancelled');
    assert.equal(await b.fail(active, 'stopped'), 'cancelled');
    assert.equal((await b.get(Q, a.id))?.state, 'cancelled');
    assert.equal(await b.cancel(Q, a.id), 'finished');
    assert.equal(await b.cancel(Q, 'no-such-job'), 'not-found');
    assert.equal((await b.depth(Q)).cancelled, 2);
  });

  test(`${name} queue: a job whose lease expires is re-delivered, and the old holder is fenced off`, async (t) => {
    const b = await open(t, factory);
    const e = await b.enqueue({ queue: Q, payload: 'crashy' });
    assert.ok(e.status === 'created');
    const first = await claimOne(b, 'first delivery');
    assert.equal(await b.checkpoint(first, 'step-a', { done: true }), true);
    // The holder "dies": no heartbeat. Recovery moves it back once the lease has passed.
    const second = await eventually(async () => {
      await b.recoverStalled(Q);
      return b.claim(Q, { leaseMs: LEASE_MS });
    }, 're-delivery after lease expiry');
    assert.equal(second.id, e.id);
    assert.equal(second.attempt, 1, 'a lease expiry does not spend an attempt');
    assert.notEqual(second.token, first.token);
    assert.deepEqual(second.checkpoints, { 'step-a': { done: true } }, 'checkpoints survive re-delivery');
    assert.equal(await b.complete(first, 'zombie'), false);
    assert.equal(await b.checkpoint(first, 'step-b', 1), false);
    assert.equal(await b.heartbeat(first, LEASE_MS), 'lost');
    assert.equal(await b.complete(second, 'real'), true);
    assert.deepEqual((await b.get(Q, e.id))?.result, 'real');
  });

  test(`${name} queue: heartbeats keep a lease alive`, async (t) => {
    const b = await open(t, factory);
    await b.enqueue({ queue: Q, payload: 'long' });
    const job = await claimOne(b, 'the job');
    for (let i = 0; i < 12; i++) {
      assert.equal(await b.heartbeat(job, LEASE_MS), 'ok');
      await b.recoverStalled(Q);
      assert.equal(await b.claim(Q, { leaseMs: LEASE_MS }), null, 'a heartbeating job is not re-delivered');
      await sleep(100);
    }
    assert.equal(await b.complete(job, null), true);
  });

  test(`${name} queue: refuses beyond maxQueued, but still answers an existing key`, async (t) => {
    const b = await open(t, factory);
    const keyed = await b.enqueue({ queue: Q, payload: 0, idempotencyKey: 'k0', maxQueued: 3 });
    for (let i = 1; i < 3; i++) assert.equal((await b.enqueue({ queue: Q, payload: i, maxQueued: 3 })).status, 'created');
    assert.deepEqual(await b.enqueue({ queue: Q, payload: 3, maxQueued: 3 }), { status: 'full', depth: 3 });
    assert.equal((await b.enqueue({ queue: Q, payload: 0, idempotencyKey: 'k0', maxQueued: 3 })).status, 'existing');
    assert.ok(keyed.status === 'created');
    const j = await claimOne(b, 'a job');
    assert.equal((await b.enqueue({ queue: Q, payload: 4, maxQueued: 3 })).status, 'full', 'active jobs still count');
    await b.complete(j, null);
    assert.equal((await b.enqueue({ queue: Q, payload: 4, maxQueued: 3 })).status, 'created');
  });

  test(`${name} queue: publishes progress and completion events`, async (t) => {
    const b = await open(t, factory);
    const seen: QueueEvent[] = [];
    const stop = await b.subscribe(Q, (ev) => seen.push(ev));
    t.after(() => stop());
    const e = await b.enqueue({ queue: Q, payload: 'p' });
    assert.ok(e.status === 'created');
    const job = await claimOne(b, 'the job');
    assert.equal(await b.progress(job, { step: 'a', done: 1 }), true);
    assert.equal((await b.get(Q, e.id))?.progress !== null, true);
    assert.equal(await b.checkpoint(job, 'step-b', 7, { step: 'b', done: 2 }), true);
    assert.deepEqual((await b.get(Q, e.id))?.progress, { step: 'b', done: 2 });
    await b.complete(job, null);
    await eventually(async () => seen.some((ev) => ev.type === 'completed' && ev.id === e.id), 'completed event');
    const progress = seen.find((ev) => ev.type === 'progress' && ev.id === e.id);
    assert.deepEqual(progress?.data, { step: 'a', done: 1 });
    const types = seen.filter((ev) => ev.id === e.id).map((ev) => ev.type);
    assert.deepEqual(types.filter((x) => x !== 'enqueued'), ['active', 'progress', 'progress', 'completed']);
  });
}
