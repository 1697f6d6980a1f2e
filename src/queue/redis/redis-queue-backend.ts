import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Job, Queue, QueueEventsProducer, UnrecoverableError, Worker, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { backoffDelayMs, checkPriority, QUEUE_MESSAGES, resolveRetry } from '../backoff.js';
import {
  DEFAULT_PRIORITY, unfinished,
  type CancelOutcome, type ClaimedJob, type ClaimOptions, type EnqueueOutcome, type EnqueueRequest, type FailOptions,
  type FailOutcome, type FinishedState, type HeartbeatOutcome, type JobInfo, type JobState, type QueueBackend, type QueueDepth,
  type QueueEventListener, type QueueEventType,
} from '../queue-backend.js';
import { subscribeQueueEvents } from './redis-events.js';
import {
  ADMISSION_LOCK_MS, failureMessage, FENCED_HSET, idForKey, LOCK_HELD, mapState, PROMOTE_PAGE, RedisKeys, RELEASE_LOCK, type Envelope,
} from './redis-scripts.js';

export interface RedisQueueOptions {
  /** `redis://host:port/db`. */
  readonly url: string;
  /** BullMQ key prefix; tests give each backend its own. */
  readonly prefix?: string;
  /** BullMQ's maxStalledCount: a lease that expires more than this many times sends the job to the DLQ. */
  readonly maxStalls?: number;
}

/**
 * The distributed queue is BullMQ itself, driven in its "manually fetching jobs" mode: `claim` is
 * `Worker.getNextJob`, leases are BullMQ job locks, `heartbeat` is `extendLock`, `recoverStalled` is BullMQ's
 * stalled-job script, retries and backoff are BullMQ's `attempts`/`backoff`. What BullMQ has no notion of
 * (checkpoints, cancellation records) lives in extra keys under the same prefix.
 */
export class RedisQueueBackend implements QueueBackend {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #keys: RedisKeys;
  readonly #maxStalls: number;
  readonly #queues = new Map<string, Queue>();
  readonly #workers = new Map<string, Worker>();
  readonly #producers = new Map<string, QueueEventsProducer>();
  readonly #events = new Set<() => Promise<void>>();
  readonly #admission = new Map<string, Promise<unknown>>();
  /** BullMQ Job objects of the leases this process holds, by token: saves a job read per write. */
  readonly #held = new Map<string, Job>();
  #closed: Promise<void> | null = null;

  constructor(options: RedisQueueOptions) {
    this.#redis = new Redis(options.url, { maxRetriesPerRequest: null, lazyConnect: false });
    this.#prefix = options.prefix ?? 'mp';
    this.#keys = new RedisKeys(this.#prefix);
    this.#maxStalls = options.maxStalls ?? 5;
  }

  /** The key prefix in use, so callers (tests, cleanup tools) can find every key this backend wrote. */
  get prefix(): string {
    return this.#prefix;
  }

  async enqueue(req: EnqueueRequest): Promise<EnqueueOutcome> {
    // BullMQ cannot count and add in one script. Admission is serialised per queue: in this process by a
    // promise chain, across processes by a short Redis lock (see #admit).
    const prev = this.#admission.get(req.queue) ?? Promise.resolve();
    const next = prev.then(() => this.#enqueueNow(req), () => this.#enqueueNow(req));
    const tail = next.catch(() => undefined);
    this.#admission.set(req.queue, tail);
    void tail.then(() => {
      if (this.#admission.get(req.queue) === tail) this.#admission.delete(req.queue);
    });
    return next;
  }

  async #enqueueNow(req: EnqueueRequest): Promise<EnqueueOutcome> {
    const queue = this.#queue(req.queue);
    const jobId = req.idempotencyKey === undefined ? randomUUID() : idForKey(req.queue, req.idempotencyKey);
    if (req.idempotencyKey !== undefined) {
      if (await this.#redis.hexists(this.#keys.cancelled(req.queue), jobId)) return { status: 'existing', id: jobId };
      if (await Job.fromId(queue, jobId)) return { status: 'existing', id: jobId };
    }
    const unlock = req.maxQueued === undefined ? null : await this.#admit(req.queue);
    try {
      if (req.maxQueued !== undefined) {
        const n = unfinished(await this.depth(req.queue));
        if (n >= req.maxQueued) return { status: 'full', depth: n };
      }
      return await this.#add(queue, req, jobId);
    } finally {
      await unlock?.();
    }
  }

  async #add(queue: Queue, req: EnqueueRequest, jobId: string): Promise<EnqueueOutcome> {
    const retry = resolveRetry(req.retry);
    const priority = checkPriority(req.priority ?? DEFAULT_PRIORITY);
    const envelope: Envelope = { p: req.payload ?? null, r: retry, k: req.idempotencyKey ?? null, pr: priority, n: randomUUID() };
    const opts: JobsOptions = {
      jobId,
      // BullMQ's priority 0 bypasses the priority set; +1 puts every job in it, ordered by priority then insertion.
      priority: priority + 1,
      attempts: retry.maxAttempts,
      backoff: { type: 'mp-exponential' },
      removeOnComplete: false,
      removeOnFail: false,
    };
    if (req.delayMs !== undefined && req.delayMs > 0) opts.delay = req.delayMs;
    const job = await queue.add('run', envelope, opts);
    const created = (job.data as Envelope).n === envelope.n;
    return { status: created ? 'created' : 'existing', id: jobId };
  }

  /**
   * Takes the queue's admission lock (SET NX PX, released by compare-and-delete) so that counting and adding
   * are one step across processes; a holder that dies frees it after ADMISSION_LOCK_MS.
   */
  async #admit(queueName: string): Promise<() => Promise<void>> {
    const key = this.#keys.admission(queueName);
    const token = randomUUID();
    for (let pauseMs = 1; ; pauseMs = Math.min(20, pauseMs * 2)) {
      if ((await this.#redis.set(key, token, 'PX', ADMISSION_LOCK_MS, 'NX')) === 'OK') break;
      await sleep(pauseMs * (0.5 + Math.random()));
    }
    return async () => {
      await this.#redis.eval(RELEASE_LOCK, 1, key, token);
    };
  }

  async claim(queueName: string, options: ClaimOptions): Promise<ClaimedJob | null> {
    const worker = this.#worker(queueName, options.leaseMs);
    const token = randomUUID();
    const job = (await worker.getNextJob(token, { block: false })) as Job | undefined;
    if (!job || job.id === undefined) return null;
    const raw = await this.#redis.hgetall(this.#keys.checkpoints(queueName, job.id));
    const checkpoints: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw)) checkpoints[k] = JSON.parse(v) as unknown;
    const env = job.data as Envelope;
    this.#held.set(token, job);
    return { id: job.id, queue: queueName, payload: env.p, attempt: job.attemptsMade + 1, maxAttempts: env.r.maxAttempts, token, checkpoints };
  }

  async heartbeat(job: ClaimedJob, leaseMs: number): Promise<HeartbeatOutcome> {
    const worker = this.#worker(job.queue, leaseMs);
    const extended = await worker.scripts.extendLock(job.id, job.token, leaseMs);
    if (!extended) {
      this.#held.delete(job.token);
      return 'lost';
    }
    return (await this.#redis.sismember(this.#keys.cancelRequested(job.queue), job.id)) ? 'cancelled' : 'ok';
  }

  async checkpoint(job: ClaimedJob, key: string, value: unknown, progress?: unknown): Promise<boolean> {
    const ok = await this.#redis.eval(FENCED_HSET, 2, this.#keys.lock(job.queue, job.id), this.#keys.checkpoints(job.queue, job.id), job.token, key, JSON.stringify(value ?? null));
    if (ok !== 1) {
      this.#held.delete(job.token);
      return false;
    }
    if (progress !== undefined) {
      const bull = await this.#activeJob(job);
      await bull?.updateProgress(progress as object);
    }
    return true;
  }

  async progress(job: ClaimedJob, value: unknown): Promise<boolean> {
    if ((await this.#redis.eval(LOCK_HELD, 1, this.#keys.lock(job.queue, job.id), job.token)) !== 1) return false;
    const bull = await this.#activeJob(job);
    if (!bull) return false;
    await bull.updateProgress(value as object);
    return true;
  }

  async complete(job: ClaimedJob, result: unknown): Promise<boolean> {
    const bull = await this.#activeJob(job);
    if (!bull) return false;
    this.#held.delete(job.token);
    try {
      await bull.moveToCompleted(result ?? null, job.token, false);
    } catch {
      return false; // BullMQ refuses: the lock is gone or held by another token.
    }
    await this.#redis.srem(this.#keys.cancelRequested(job.queue), job.id);
    return true;
  }

  async fail(job: ClaimedJob, error: string, options?: FailOptions): Promise<FailOutcome> {
    const bull = await this.#activeJob(job);
    if (!bull) return 'lost';
    const cancelling = (await this.#redis.sismember(this.#keys.cancelRequested(job.queue), job.id)) === 1;
    const retryable = (options?.retryable ?? true) && !cancelling;
    const willRetry = retryable && bull.attemptsMade + 1 < (bull.opts.attempts ?? 1);
    this.#held.delete(job.token);
    // Recorded before the job passes through BullMQ's failed state, which a status read in between
    // would otherwise report as dead (the record is what status() reads first).
    if (cancelling) await this.#recordCancelled(job.queue, bull, 'active');
    try {
      // A cancelled job passes through BullMQ's failed state on its way out; its reason marks it as cancelled.
      const reason = cancelling ? QUEUE_MESSAGES.cancelled : error;
      await bull.moveToFailed(retryable ? new Error(reason) : new UnrecoverableError(reason), job.token, false);
    } catch {
      // The lease went to another worker, which sees the cancel request at its next heartbeat.
      if (cancelling) await this.#redis.hdel(this.#keys.cancelled(job.queue), job.id);
      return 'lost';
    }
    if (cancelling) {
      await bull.remove().catch(() => undefined);
      await this.#redis.srem(this.#keys.cancelRequested(job.queue), job.id);
      return 'cancelled';
    }
    if (willRetry) {
      await this.#publish(job.queue, 'retrying', job.id, error);
      return 'retrying';
    }
    return 'dead';
  }

  async promoteDelayed(queueName: string): Promise<number> {
    const queue = this.#queue(queueName);
    const now = Date.now();
    let moved = 0;
    // BullMQ also promotes due jobs inside every claim; this pass is for queues nobody is claiming from.
    // The delayed set is ordered by due time, so the first page holds every job that can be due.
    for (const job of await queue.getDelayed(0, PROMOTE_PAGE - 1)) {
      if (job.timestamp + job.delay <= now) {
        try {
          await job.promote();
          moved++;
        } catch {
          // Another process promoted or claimed it first.
        }
      }
    }
    return moved;
  }

  async recoverStalled(queueName: string): Promise<number> {
    const worker = this.#anyWorker(queueName);
    // BullMQ marks active jobs on one pass and moves those whose lock expired on the next; it also rate-limits
    // passes across processes to one per stalledInterval (= the lease), so callers poll.
    const moved = await worker.scripts.moveStalledJobsToWait();
    return moved.length;
  }

  async cancel(queueName: string, id: string): Promise<CancelOutcome> {
    const queue = this.#queue(queueName);
    if (await this.#redis.hexists(this.#keys.cancelled(queueName), id)) return 'finished';
    const job = await Job.fromId(queue, id);
    if (!job) return 'not-found';
    const state = await job.getState();
    if (state === 'completed' || state === 'failed') return 'finished';
    if (state === 'active') {
      await this.#redis.sadd(this.#keys.cancelRequested(queueName), id);
      return 'cancelling';
    }
    // Record first so an idempotent resubmission racing with the removal still finds the run.
    await this.#recordCancelled(queueName, job, state);
    try {
      await job.remove();
    } catch {
      // It became active in between: cancel it the cooperative way.
      await this.#redis.hdel(this.#keys.cancelled(queueName), id);
      await this.#redis.sadd(this.#keys.cancelRequested(queueName), id);
      return 'cancelling';
    }
    await this.#publish(queueName, 'cancelled', id, QUEUE_MESSAGES.cancelled);
    return 'cancelled';
  }

  async redrive(queueName: string, id?: string): Promise<number> {
    const queue = this.#queue(queueName);
    const jobs = id === undefined ? await queue.getFailed(0, -1) : [await Job.fromId(queue, id)];
    let n = 0;
    for (const job of jobs) {
      if (!job || (await job.getState()) !== 'failed') continue;
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      await this.#publish(queueName, 'enqueued', job.id ?? '', null);
      n++;
    }
    return n;
  }

  async listDead(queueName: string, options?: { readonly limit?: number; readonly offset?: number }): Promise<JobInfo[]> {
    const offset = options?.offset ?? 0;
    const limit = options?.limit ?? 100;
    const jobs = await this.#queue(queueName).getFailed(offset, offset + limit - 1);
    return Promise.all(jobs.map((j) => this.#info(queueName, j, 'dead')));
  }

  async get(queueName: string, id: string): Promise<JobInfo | null> {
    const cancelled = await this.#redis.hget(this.#keys.cancelled(queueName), id);
    if (cancelled !== null) return JSON.parse(cancelled) as JobInfo;
    // State first: a job read after it reached a final state is consistent with that state
    // (read the other way round, a job can show 'completed' without its result).
    const queue = this.#queue(queueName);
    const state = await queue.getJobState(id);
    if (state === 'unknown' || state === 'failed') {
      // A cancel may have finished between the two reads: its record is written before the job fails or goes.
      const late = await this.#redis.hget(this.#keys.cancelled(queueName), id);
      if (late !== null) return JSON.parse(late) as JobInfo;
      if (state === 'unknown') return null;
    }
    const job = await Job.fromId(queue, id);
    if (!job) return null;
    return this.#info(queueName, job, mapState(state));
  }

  async clean(queueName: string, state: FinishedState, olderThanMs: number, limit: number): Promise<number> {
    let ids: string[];
    if (state === 'cancelled') {
      // Cancelled runs live in our own hash (BullMQ removed them); its entries carry their finish time.
      const cutoff = Date.now() - olderThanMs;
      const key = this.#keys.cancelled(queueName);
      ids = Object.entries(await this.#redis.hgetall(key))
        .filter(([, v]) => ((JSON.parse(v) as JobInfo).finishedAtMs ?? 0) <= cutoff)
        .slice(0, limit)
        .map(([id]) => id);
      if (ids.length > 0) await this.#redis.hdel(key, ...ids);
    } else {
      ids = await this.#queue(queueName).clean(olderThanMs, limit, state === 'dead' ? 'failed' : 'completed');
    }
    if (ids.length > 0) await this.#redis.del(...ids.map((id) => this.#keys.checkpoints(queueName, id)));
    return ids.length;
  }

  async depth(queueName: string): Promise<QueueDepth> {
    const c = await this.#queue(queueName).getJobCounts('wait', 'prioritized', 'paused', 'delayed', 'active', 'completed', 'failed');
    const cancelled = await this.#redis.hlen(this.#keys.cancelled(queueName));
    return {
      waiting: (c.wait ?? 0) + (c.prioritized ?? 0) + (c.paused ?? 0),
      delayed: c.delayed ?? 0,
      active: c.active ?? 0,
      completed: c.completed ?? 0,
      dead: c.failed ?? 0,
      cancelled,
    };
  }

  async subscribe(queueName: string, listener: QueueEventListener): Promise<() => Promise<void>> {
    const stop = await subscribeQueueEvents(this.#redis, this.#prefix, queueName, this.#maxStalls, listener);
    const once = async (): Promise<void> => {
      this.#events.delete(once);
      await stop();
    };
    this.#events.add(once);
    return once;
  }

  async close(): Promise<void> {
    this.#closed ??= (async () => {
      const closing: Promise<unknown>[] = [];
      for (const w of this.#workers.values()) closing.push(w.close(true));
      for (const q of this.#queues.values()) closing.push(q.close());
      for (const p of this.#producers.values()) closing.push(p.close());
      for (const close of this.#events) closing.push(close());
      await Promise.allSettled(closing);
      this.#redis.disconnect();
    })();
    return this.#closed;
  }

  #queue(name: string): Queue {
    let q = this.#queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: this.#redis, prefix: this.#prefix });
      this.#queues.set(name, q);
    }
    return q;
  }

  /** One BullMQ Worker per (queue, lease): BullMQ fixes the lock length per worker. */
  #worker(queueName: string, leaseMs: number): Worker {
    const key = `${queueName}\0${leaseMs}`;
    let w = this.#workers.get(key);
    if (!w) {
      w = new Worker(queueName, null, {
        connection: this.#redis,
        prefix: this.#prefix,
        autorun: false,
        lockDuration: leaseMs,
        stalledInterval: leaseMs,
        maxStalledCount: this.#maxStalls,
        settings: { backoffStrategy: (attemptsMade, _type, _err, job) => backoffDelayMs((job?.data as Envelope).r, attemptsMade) },
      });
      w.on('error', () => undefined); // connection errors surface on the calls that hit them
      this.#workers.set(key, w);
    }
    return w;
  }

  #anyWorker(queueName: string): Worker {
    for (const [key, w] of this.#workers) if (key.startsWith(`${queueName}\0`)) return w;
    return this.#worker(queueName, 30_000);
  }

  async #activeJob(job: ClaimedJob): Promise<Job | undefined> {
    const held = this.#held.get(job.token);
    if (held) return held;
    const worker = this.#anyWorker(job.queue);
    // Jobs loaded through the worker carry its backoff strategy (BullMQ reads `job.queue.opts.settings`).
    return (await Job.fromId(worker as unknown as Queue, job.id)) as Job | undefined;
  }

  async #recordCancelled(queueName: string, job: Job, state: string): Promise<void> {
    const info = await this.#info(queueName, job, mapState(state));
    const snapshot: JobInfo = { ...info, state: 'cancelled', error: QUEUE_MESSAGES.cancelled, finishedAtMs: Date.now() };
    await this.#redis.hset(this.#keys.cancelled(queueName), job.id ?? '', JSON.stringify(snapshot));
  }

  async #publish(queueName: string, type: QueueEventType, id: string, data: unknown): Promise<void> {
    let p = this.#producers.get(queueName);
    if (!p) {
      p = new QueueEventsProducer(queueName, { connection: this.#redis, prefix: this.#prefix });
      this.#producers.set(queueName, p);
    }
    await p.publishEvent({ eventName: `mp-${type}`, jobId: id, data: JSON.stringify(data ?? null) }, 10_000);
  }

  async #info(queueName: string, job: Job, state: JobState): Promise<JobInfo> {
    const env = job.data as Envelope;
    const raw = await this.#redis.hgetall(this.#keys.checkpoints(queueName, job.id ?? ''));
    const checkpoints: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw)) checkpoints[k] = JSON.parse(v) as unknown;
    const reason = failureMessage(job.failedReason, this.#maxStalls);
    return {
      // BullMQ counts the successful attempt too; the contract counts failed attempts.
      id: job.id ?? '', queue: queueName, state, payload: env.p, priority: env.pr,
      attemptsMade: state === 'completed' ? Math.max(0, job.attemptsMade - 1) : job.attemptsMade,
      maxAttempts: env.r.maxAttempts, idempotencyKey: env.k, result: job.returnvalue ?? null,
      error: reason ? reason : null, progress: typeof job.progress === 'number' && job.progress === 0 ? null : job.progress,
      checkpoints, createdAtMs: job.timestamp, finishedAtMs: job.finishedOn ?? null,
    };
  }
}
