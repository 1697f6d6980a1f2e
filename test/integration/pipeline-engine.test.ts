import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MpError } from '../../src/errors.js';
import { PipelineRegistry, definePipeline, type BuiltPipeline } from '../../src/pipeline/pipeline-registry.js';
import { PipelineService, type RunEvent, type RunStatus } from '../../src/pipeline/pipeline-service.js';
import { PipelineWorker } from '../../src/pipeline/pipeline-worker.js';
import { UnrecoverableStepError } from '../../src/pipeline/step-errors.js';
import type { QueueBackend } from '../../src/queue/queue-backend.js';
import { RedisQueueBackend } from '../../src/queue/redis/redis-queue-backend.js';
import { SqliteQueueBackend } from '../../src/queue/sqlite/sqlite-queue-backend.js';
import { ArgmaxInvoker } from '../helpers/argmax-invoker.js';
import { eventually } from '../helpers/eventually.js';
import { deleteKeys, REDIS_URL } from '../helpers/redis-cleanup.js';

const FAST_RETRY = { maxAttempts: 3, backoffMs: 20, maxBackoffMs: 50, jitter: 0 };

interface Engine {
  service: PipelineService;
  worker: PipelineWorker;
  invoker: ArgmaxInvoker;
  backend: QueueBackend;
}

type BackendKind = 'sqlite' | 'redis';

async function engine(t: TestContext, kind: BackendKind, pipelines: BuiltPipeline[], opts: { start?: boolean; concurrency?: number } = {}): Promise<Engine> {
  const dir = mkdtempSync(join(tmpdir(), 'mp-engine-'));
  const prefix = `mp-test-${randomUUID()}`;
  const backend: QueueBackend = kind === 'sqlite'
    ? new SqliteQueueBackend({ dataDir: dir, eventPollMs: 10 })
    : new RedisQueueBackend({ url: REDIS_URL, prefix });
  const registry = new PipelineRegistry();
  for (const p of pipelines) registry.addBuilt(p);
  registry.checkFunctions();
  const invoker = new ArgmaxInvoker();
  const service = new PipelineService({ backend, registry });
  const worker = new PipelineWorker({ backend, registry, invoker, concurrency: opts.concurrency ?? 4, idlePollMs: 10 });
  if (opts.start !== false) worker.start();
  t.after(async () => {
    await worker.stop({ drain: false });
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
    if (kind === 'redis') await deleteKeys(prefix);
  });
  return { service, worker, invoker, backend };
}

async function settled(service: PipelineService, pipeline: string, runId: string): Promise<RunStatus> {
  return eventually(async () => {
    const s = await service.status(pipeline, runId);
    return ['completed', 'dead', 'cancelled'].includes(s.state) ? s : null;
  }, `run ${runId} to settle`);
}

for (const kind of ['sqlite', 'redis'] as const) {
  test(`${kind} pipeline: fans out, runs a model step per item and joins`, async (t) => {
    const p = definePipeline('fan', { retry: FAST_RETRY, leaseMs: 1000 })
      .step('split', (input) => (input as number[][]).map((row) => ({ row })), { fanOut: true })
      .step('tensor', (item) => ({ input: { datatype: 'FP32', shape: [1, 3], data: (item as { row: number[] }).row } }), { concurrency: 2 })
      .model('classify', 'argmax', { outputs: ['label'] })
      .step('collect', (labels) => (labels as { label: { data: number[] } }[]).map((l) => l.label.data[0]), { join: true })
      .build();
    const e = await engine(t, kind, [p]);
    const { runId } = await e.service.submit('fan', [[0, 5, 1], [9, 0, 0], [0, 0, 2], [1, 3, 2]]);
    const s = await settled(e.service, 'fan', runId);
    assert.equal(s.state, 'completed', s.error ?? '');
    assert.deepEqual(s.result, { collect: [1, 0, 2, 1] });
    assert.equal(e.invoker.calls, 4);
    assert.deepEqual(s.steps.map((x) => [x.name, x.state, x.items]), [
      ['split', 'completed', null],
      ['tensor', 'completed', { completed: 4, total: 4 }],
      ['classify', 'completed', { completed: 4, total: 4 }],
      ['collect', 'completed', null],
    ]);
  });

  test(`${kind} pipeline: a retried run skips the steps it already completed`, async (t) => {
    const calls = { a: 0, b: 0 };
    const p = definePipeline('skip', { retry: FAST_RETRY, leaseMs: 1000 })
      .step('a', (x) => {
        calls.a++;
        return (x as number) + 1;
      })
      .step('b', (x) => {
        calls.b++;
        if (calls.b === 1) throw new Error('transient');
        return (x as number) * 10;
      })
      .build();
    const e = await engine(t, kind, [p]);
    const { runId } = await e.service.submit('skip', 4);
    const s = await settled(e.service, 'skip', runId);
    assert.equal(s.state, 'completed');
    assert.deepEqual(s.result, { b: 50 });
    assert.deepEqual(calls, { a: 1, b: 2 });
    assert.equal(s.attemptsMade, 1);
  });

  test(`${kind} pipeline: dead-letters after max attempts; redrive finishes without redoing completed steps`, async (t) => {
    const calls = { a: 0, b: 0 };
    let broken = true;
    const p = definePipeline('dlq', { retry: { ...FAST_RETRY, maxAttempts: 2 }, leaseMs: 1000 })
      .step('a', () => ++calls.a)
      .step('b', () => {
        calls.b++;
        if (broken) throw new Error('downstream unavailable');
        return 'ok';
      })
      .build();
    const e = await engine(t, kind, [p]);
    const { runId } = await e.service.submit('dlq', null);
    const dead = await settled(e.service, 'dlq', runId);
    assert.equal(dead.state, 'dead');
    assert.equal(dead.error, 'downstream unavailable');
    assert.deepEqual((await e.service.listDead('dlq')).map((r) => r.id), [runId]);
    assert.equal(calls.b, 2);
    broken = false;
    assert.equal(await e.service.redrive('dlq', runId), 1);
    const done = await settled(e.service, 'dlq', runId);
    assert.equal(done.state, 'completed');
    assert.deepEqual(calls, { a: 1, b: 3 });
    await assert.rejects(e.service.redrive('dlq', runId), (err: unknown) => err instanceof MpError && err.code === 'MP_NOT_FOUND');
  });

  test(`${kind} pipeline: an unrecoverable step error skips the remaining attempts`, async (t) => {
    let calls = 0;
    const p = definePipeline('unrec', { retry: { ...FAST_RETRY, maxAttempts: 5 }, leaseMs: 1000 })
      .step('validate', () => {
        calls++;
        throw new UnrecoverableStepError('input is not an image');
      })
      .build();
    const e = await engine(t, kind, [p]);
    const { runId } = await e.service.submit('unrec', {});
    const s = await settled(e.service, 'unrec', runId);
    assert.equal(s.state, 'dead');
    assert.equal(calls, 1);
  });

  test(`${kind} pipeline: finished runs are deleted after their keep time (checkpoints and idempotency key with them); dead runs by their own`, async (t) => {
    const p = definePipeline('keep', { retry: FAST_RETRY, leaseMs: 300, keepFinished: { completedMs: 400, deadMs: null } })
      .step('maybe', (x) => {
        if ((x as { fail: boolean }).fail) throw new UnrecoverableStepError('refused');
        return x;
      })
      .build();
    const e = await engine(t, kind, [p]);
    const done = await e.service.submit('keep', { fail: false }, { idempotencyKey: 'once' });
    const dead = await e.service.submit('keep', { fail: true });
    assert.equal((await settled(e.service, 'keep', done.runId)).state, 'completed');
    assert.equal((await settled(e.service, 'keep', dead.runId)).state, 'dead');
    assert.equal((await e.service.submit('keep', { fail: false }, { idempotencyKey: 'once' })).created, false, 'kept: the key still names the run');
    const gone = await eventually(async () => {
      try {
        await e.service.status('keep', done.runId);
        return null;
      } catch (err) {
        return err instanceof MpError ? err : null;
      }
    }, 'the completed run to be deleted');
    assert.equal(gone.code, 'MP_NOT_FOUND');
    assert.equal((await e.backend.depth('keep')).completed, 0);
    assert.equal((await e.service.status('keep', dead.runId)).state, 'dead', 'deadMs: null keeps the dead-letter queue');
    const again = await e.service.submit('keep', { fail: false }, { idempotencyKey: 'once' });
    assert.equal(again.created, true, 'the key is free once its run is deleted');
  });

  test(`${kind} pipeline: cancels a running run through its step's abort signal`, async (t) => {
    let started = false;
    const p = definePipeline('cancel', { retry: FAST_RETRY, leaseMs: 300 })
      .step('wait', (_x, ctx) => new Promise((_resolve, reject) => {
        started = true;
        ctx.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
      }))
      .build();
    const e = await engine(t, kind, [p]);
    const events: string[] = [];
    const stop = await e.service.subscribe('cancel', (ev) => events.push(ev.type));
    t.after(() => stop());
    const { runId } = await e.service.submit('cancel', null);
    await eventually(async () => started, 'the step to start');
    assert.equal(await e.service.cancel('cancel', runId), 'cancelling');
    const s = await settled(e.service, 'cancel', runId);
    assert.equal(s.state, 'cancelled');
    await eventually(async () => events.includes('cancelled'), 'the cancelled event');
    assert.ok(!events.includes('dead'), `a cancelled run is not reported dead (${events.join(', ')})`);
  });
}

test('sqlite pipeline: step retry policy, timeout and concurrency limit hold', async (t) => {
  let flaky = 0;
  let running = 0;
  let maxRunning = 0;
  const p = definePipeline('limits', { retry: { ...FAST_RETRY, maxAttempts: 1 }, leaseMs: 1000 })
    .step('flaky', () => {
      if (++flaky < 3) throw new Error('flaky');
      return [1, 2, 3, 4, 5, 6];
    }, { fanOut: true, retry: { maxAttempts: 3, backoffMs: 5, maxBackoffMs: 10, jitter: 0 } })
    .step('slow', async (x) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((r) => setTimeout(r, 20));
      running--;
      return x;
    }, { concurrency: 2 })
    .step('sum', (xs) => (xs as number[]).reduce((a, b) => a + b, 0), { join: true })
    .build();
  const hang = definePipeline('hang', { retry: { ...FAST_RETRY, maxAttempts: 1 }, leaseMs: 1000 })
    .step('forever', () => new Promise(() => undefined), { timeoutMs: 50 })
    .build();
  const e = await engine(t, 'sqlite', [p, hang]);
  const a = await e.service.submit('limits', null);
  const b = await e.service.submit('hang', null);
  const sa = await settled(e.service, 'limits', a.runId);
  assert.equal(sa.state, 'completed', sa.error ?? '');
  assert.deepEqual(sa.result, { sum: 21 });
  assert.equal(flaky, 3, 'the step was tried three times within one delivery');
  assert.equal(maxRunning, 2, 'concurrency 2 is reached and never exceeded');
  const sb = await settled(e.service, 'hang', b.runId);
  assert.equal(sb.state, 'dead');
  assert.match(sb.error ?? '', /step 'forever' timed out after 50 ms/);
});

test('sqlite pipeline: submission is idempotent, refused when full, and waits for room when asked', async (t) => {
  const p = definePipeline('bp', { maxQueued: 2, retry: FAST_RETRY, leaseMs: 1000 }).step('noop', (x) => x).build();
  const e = await engine(t, 'sqlite', [p], { start: false });
  const first = await e.service.submit('bp', 1, { idempotencyKey: 'a' });
  assert.deepEqual(await e.service.submit('bp', 1, { idempotencyKey: 'a' }), { runId: first.runId, created: false });
  await e.service.submit('bp', 2);
  await assert.rejects(e.service.submit('bp', 3), (err: unknown) => err instanceof MpError && err.code === 'MP_QUEUE_FULL' && err.status === 429);
  assert.equal((await e.service.submit('bp', 1, { idempotencyKey: 'a' })).runId, first.runId, 'a known key is answered even when full');
  const waiting = e.service.submit('bp', 3, { waitTimeoutMs: 60_000 });
  e.worker.start();
  const third = await waiting;
  assert.equal(third.created, true);
  await settled(e.service, 'bp', third.runId);
  await assert.rejects(e.service.submit('nope', 1), (err: unknown) => err instanceof MpError && err.code === 'MP_NOT_FOUND');
});

test('sqlite pipeline: publishes step progress events for a run', async (t) => {
  const p = definePipeline('events', { retry: FAST_RETRY, leaseMs: 1000 })
    .step('one', (x) => x)
    .step('two', (x) => x)
    .build();
  const e = await engine(t, 'sqlite', [p]);
  const seen: RunEvent[] = [];
  const all: RunEvent[] = [];
  const { runId } = await e.service.submit('events', 'x', { delayMs: 100 });
  const other = await e.service.submit('events', 'y', { delayMs: 100 });
  // Two listeners share one backend subscription; each sees what it asked for.
  const stop = await e.service.subscribe('events', (ev) => seen.push(ev), runId);
  const stopAll = await e.service.subscribe('events', (ev) => all.push(ev));
  t.after(() => stop());
  await eventually(async () => seen.some((ev) => ev.type === 'completed'), 'the completed event');
  assert.deepEqual(seen.filter((ev) => ev.type === 'progress').map((ev) => (ev.data as { step: string }).step), ['one', 'two']);
  await eventually(async () => all.some((ev) => ev.type === 'completed' && ev.runId === other.runId), 'the other run completing');
  assert.ok(seen.every((ev) => ev.runId === runId));
  await stop();
  await stopAll();
  const late: RunEvent[] = [];
  const stopLate = await e.service.subscribe('events', (ev) => late.push(ev));
  t.after(() => stopLate());
  await e.service.submit('events', 'z');
  await eventually(async () => late.some((ev) => ev.type === 'completed'), 'events after resubscribing');
});
