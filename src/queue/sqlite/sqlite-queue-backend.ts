import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { backoffDelayMs, checkPriority, QUEUE_MESSAGES, resolveRetry } from '../backoff.js';
import {
  DEFAULT_PRIORITY,
  type CancelOutcome, type ClaimedJob, type ClaimOptions, type EnqueueOutcome, type EnqueueRequest, type FailOptions,
  type FailOutcome, type FinishedState, type HeartbeatOutcome, type JobInfo, type JobState, type QueueBackend, type QueueDepth,
  type QueueEventListener, type QueueEventType,
} from '../queue-backend.js';
import { openQueueSchema, type JobRow } from './sqlite-schema.js';

export interface SqliteQueueOptions {
  /** Directory holding `queue.db` (created if missing), or ':memory:' for a single-process queue. */
  readonly dataDir: string;
  /** A lease that expires more than this many times sends the job to the DLQ (BullMQ's maxStalledCount). */
  readonly maxStalls?: number;
  /** How often `subscribe` polls the event log. */
  readonly eventPollMs?: number;
  /** Events kept per database; older ones are trimmed by `recoverStalled`. */
  readonly eventRetention?: number;
}

const PRIORITY_SHIFT = 2 ** 32;

/**
 * The embedded queue: better-sqlite3 in WAL mode. Every operation is one IMMEDIATE transaction, so each
 * is atomic across processes sharing the file, the way each BullMQ operation is one Lua script.
 */
export class SqliteQueueBackend implements QueueBackend {
  readonly #db: Database.Database;
  readonly #maxStalls: number;
  readonly #eventPollMs: number;
  readonly #eventRetention: number;
  readonly #pollers = new Set<NodeJS.Timeout>();
  #closed = false;

  readonly #enqueueTx: Database.Transaction<(req: EnqueueRequest) => EnqueueOutcome>;
  readonly #claimTx: Database.Transaction<(queue: string, leaseMs: number) => ClaimedJob | null>;
  readonly #failTx: Database.Transaction<(job: ClaimedJob, error: string, retryable: boolean) => FailOutcome>;
  readonly #checkpointTx: Database.Transaction<(job: ClaimedJob, key: string, value: unknown, progress: unknown) => boolean>;
  readonly #statements = new Map<string, Database.Statement>();

  constructor(options: SqliteQueueOptions) {
    const file = options.dataDir === ':memory:' ? ':memory:' : join(mkdirDir(options.dataDir), 'queue.db');
    this.#db = new Database(file);
    openQueueSchema(this.#db);
    this.#maxStalls = options.maxStalls ?? 5;
    this.#eventPollMs = options.eventPollMs ?? 50;
    this.#eventRetention = options.eventRetention ?? 10_000;
    this.#enqueueTx = this.#db.transaction((req: EnqueueRequest) => this.#enqueueInTx(req));
    this.#claimTx = this.#db.transaction((queue: string, leaseMs: number) => this.#claimInTx(queue, leaseMs));
    this.#checkpointTx = this.#db.transaction((job: ClaimedJob, key: string, value: unknown, progress: unknown) => this.#checkpointInTx(job, key, value, progress));
    this.#failTx = this.#db.transaction((job: ClaimedJob, error: string, retryable: boolean) => this.#failInTx(job, error, retryable));
  }

  async enqueue(req: EnqueueRequest): Promise<EnqueueOutcome> {
    return this.#enqueueTx.immediate(req);
  }

  /**
   * Inputs: queue, payload, optional key/priority/delay/limit. Guarantee: at most one job per (queue, key);
   * a refused enqueue writes nothing; the count and the insert see the same snapshot.
   */
  #enqueueInTx(req: EnqueueRequest): EnqueueOutcome {
    if (req.idempotencyKey !== undefined) {
      const row = this.#stmt('SELECT id FROM mp_jobs WHERE queue = ? AND idempotency_key = ?')
        .get(req.queue, req.idempotencyKey) as { id: string } | undefined;
      if (row) return { status: 'existing', id: row.id };
    }
    if (req.maxQueued !== undefined) {
      const n = this.#countUnfinished(req.queue);
      if (n >= req.maxQueued) return { status: 'full', depth: n };
    }
    const retry = resolveRetry(req.retry);
    const priority = checkPriority(req.priority ?? DEFAULT_PRIORITY);
    const now = Date.now();
    const delayMs = Math.max(0, req.delayMs ?? 0);
    const id = randomUUID();
    this.#stmt(`INSERT INTO mp_jobs (id, queue, state, priority, order_key, payload, idempotency_key, run_at_ms,
        max_attempts, backoff_ms, max_backoff_ms, jitter, created_at_ms)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
      id, req.queue, delayMs > 0 ? 'delayed' : 'waiting', priority, priority * PRIORITY_SHIFT + this.#nextSeq(),
      JSON.stringify(req.payload ?? null), req.idempotencyKey ?? null, now + delayMs,
      retry.maxAttempts, retry.backoffMs, retry.maxBackoffMs, retry.jitter, now,
    );
    this.#event(req.queue, id, 'enqueued', null);
    return { status: 'created', id };
  }

  async claim(queue: string, options: ClaimOptions): Promise<ClaimedJob | null> {
    return this.#claimTx.immediate(queue, options.leaseMs);
  }

  /** Inputs: queue, lease. Guarantee: promotes due delayed jobs, then leases the lowest order_key waiting job to one caller. */
  #claimInTx(queue: string, leaseMs: number): ClaimedJob | null {
    const now = Date.now();
    this.#promoteInTx(queue, now);
    const row = this.#stmt(`SELECT * FROM mp_jobs WHERE queue = ? AND state = 'waiting' ORDER BY order_key LIMIT 1`)
      .get(queue) as JobRow | undefined;
    if (!row) return null;
    const token = randomUUID();
    this.#stmt(`UPDATE mp_jobs SET state = 'active', token = ?, lease_until_ms = ? WHERE id = ?`).run(token, now + leaseMs, row.id);
    this.#event(queue, row.id, 'active', null);
    return {
      id: row.id, queue, payload: JSON.parse(row.payload) as unknown, attempt: row.attempts_made + 1,
      maxAttempts: row.max_attempts, token, checkpoints: this.#checkpoints(row.id),
    };
  }

  async heartbeat(job: ClaimedJob, leaseMs: number): Promise<HeartbeatOutcome> {
    return this.#db.transaction((): HeartbeatOutcome => {
      const row = this.#held(job);
      if (!row) return 'lost';
      this.#stmt('UPDATE mp_jobs SET lease_until_ms = ? WHERE id = ?').run(Date.now() + leaseMs, job.id);
      return row.cancel_requested ? 'cancelled' : 'ok';
    }).immediate();
  }

  async checkpoint(job: ClaimedJob, key: string, value: unknown, progress?: unknown): Promise<boolean> {
    return this.#checkpointTx.immediate(job, key, value, progress);
  }

  /** Inputs: the lease, key, value, optional progress. Guarantee: written only while the caller holds the lease. */
  #checkpointInTx(job: ClaimedJob, key: string, value: unknown, progress: unknown): boolean {
    if (!this.#held(job)) return false;
    this.#stmt('INSERT OR REPLACE INTO mp_checkpoints (job_id, key, value) VALUES (?, ?, ?)').run(job.id, key, JSON.stringify(value ?? null));
    if (progress !== undefined) {
      this.#stmt('UPDATE mp_jobs SET progress = ? WHERE id = ?').run(JSON.stringify(progress), job.id);
      this.#event(job.queue, job.id, 'progress', progress);
    }
    return true;
  }

  async progress(job: ClaimedJob, value: unknown): Promise<boolean> {
    return this.#db.transaction((): boolean => {
      if (!this.#held(job)) return false;
      this.#stmt('UPDATE mp_jobs SET progress = ? WHERE id = ?').run(JSON.stringify(value ?? null), job.id);
      this.#event(job.queue, job.id, 'progress', value);
      return true;
    }).immediate();
  }

  async complete(job: ClaimedJob, result: unknown): Promise<boolean> {
    return this.#db.transaction((): boolean => {
      if (!this.#held(job)) return false;
      this.#stmt(`UPDATE mp_jobs SET state = 'completed', result = ?, token = NULL, lease_until_ms = NULL,
        finished_at_ms = ? WHERE id = ?`).run(JSON.stringify(result ?? null), Date.now(), job.id);
      this.#event(job.queue, job.id, 'completed', null);
      return true;
    }).immediate();
  }

  async fail(job: ClaimedJob, error: string, options?: FailOptions): Promise<FailOutcome> {
    return this.#failTx.immediate(job, error, options?.retryable ?? true);
  }

  /** Inputs: the lease, the error. Guarantee: exactly one of retry-with-backoff, DLQ or cancelled, only for the lease holder. */
  #failInTx(job: ClaimedJob, error: string, retryable: boolean): FailOutcome {
    const row = this.#held(job);
    if (!row) return 'lost';
    const now = Date.now();
    const attempts = row.attempts_made + 1;
    if (row.cancel_requested) {
      this.#finish(row, 'cancelled', QUEUE_MESSAGES.cancelled, attempts, now);
      return 'cancelled';
    }
    if (!retryable || attempts >= row.max_attempts) {
      this.#finish(row, 'dead', error, attempts, now);
      return 'dead';
    }
    const delay = backoffDelayMs({ maxAttempts: row.max_attempts, backoffMs: row.backoff_ms, maxBackoffMs: row.max_backoff_ms, jitter: row.jitter }, attempts);
    this.#stmt(`UPDATE mp_jobs SET state = 'delayed', attempts_made = ?, error = ?, run_at_ms = ?, token = NULL,
      lease_until_ms = NULL WHERE id = ?`).run(attempts, error, now + delay, row.id);
    this.#event(row.queue, row.id, 'retrying', error);
    return 'retrying';
  }

  async promoteDelayed(queue: string): Promise<number> {
    return this.#db.transaction(() => this.#promoteInTx(queue, Date.now())).immediate();
  }

  #promoteInTx(queue: string, now: number): number {
    return this.#stmt(`UPDATE mp_jobs SET state = 'waiting' WHERE queue = ? AND state = 'delayed' AND run_at_ms <= ?`)
      .run(queue, now).changes;
  }

  /**
   * Inputs: queue. Guarantee: every active job whose lease has passed loses its token (so the old holder's writes
   * are refused) and goes back to waiting without spending an attempt, or to the DLQ past `maxStalls`.
   */
  async recoverStalled(queue: string): Promise<number> {
    return this.#db.transaction((): number => {
      const now = Date.now();
      const rows = this.#stmt(`SELECT * FROM mp_jobs WHERE queue = ? AND state = 'active' AND lease_until_ms < ?`)
        .all(queue, now) as JobRow[];
      for (const row of rows) {
        if (row.cancel_requested) this.#finish(row, 'cancelled', QUEUE_MESSAGES.cancelled, row.attempts_made, now);
        else if (row.stalls + 1 > this.#maxStalls) this.#finish(row, 'dead', QUEUE_MESSAGES.stalledTooOften(this.#maxStalls), row.attempts_made + 1, now);
        else {
          this.#stmt(`UPDATE mp_jobs SET state = 'waiting', stalls = stalls + 1, token = NULL, lease_until_ms = NULL WHERE id = ?`).run(row.id);
        }
      }
      this.#stmt('DELETE FROM mp_events WHERE seq <= (SELECT MAX(seq) FROM mp_events) - ?').run(this.#eventRetention);
      return rows.length;
    }).immediate();
  }

  async cancel(queue: string, id: string): Promise<CancelOutcome> {
    return this.#db.transaction((): CancelOutcome => {
      const row = this.#stmt('SELECT * FROM mp_jobs WHERE queue = ? AND id = ?').get(queue, id) as JobRow | undefined;
      if (!row) return 'not-found';
      if (row.state === 'waiting' || row.state === 'delayed') {
        this.#finish(row, 'cancelled', QUEUE_MESSAGES.cancelled, row.attempts_made, Date.now());
        return 'cancelled';
      }
      if (row.state === 'active') {
        this.#stmt('UPDATE mp_jobs SET cancel_requested = 1 WHERE id = ?').run(id);
        return 'cancelling';
      }
      return 'finished';
    }).immediate();
  }

  /** Inputs: queue, optional id. Guarantee: each dead job returns to waiting (at the back of its priority) with attempts reset. */
  async redrive(queue: string, id?: string): Promise<number> {
    return this.#db.transaction((): number => {
      const rows = (id === undefined
        ? this.#stmt(`SELECT * FROM mp_jobs WHERE queue = ? AND state = 'dead'`).all(queue)
        : this.#stmt(`SELECT * FROM mp_jobs WHERE queue = ? AND state = 'dead' AND id = ?`).all(queue, id)) as JobRow[];
      const now = Date.now();
      for (const row of rows) {
        this.#stmt(`UPDATE mp_jobs SET state = 'waiting', attempts_made = 0, stalls = 0, error = NULL, finished_at_ms = NULL,
          run_at_ms = ?, order_key = ? WHERE id = ?`).run(now, row.priority * PRIORITY_SHIFT + this.#nextSeq(), row.id);
        this.#event(queue, row.id, 'enqueued', null);
      }
      return rows.length;
    }).immediate();
  }

  async listDead(queue: string, options?: { readonly limit?: number; readonly offset?: number }): Promise<JobInfo[]> {
    const rows = this.#stmt(`SELECT * FROM mp_jobs WHERE queue = ? AND state = 'dead' ORDER BY finished_at_ms, id LIMIT ? OFFSET ?`)
      .all(queue, options?.limit ?? 100, options?.offset ?? 0) as JobRow[];
    return rows.map((r) => this.#info(r));
  }

  async get(queue: string, id: string): Promise<JobInfo | null> {
    const row = this.#stmt('SELECT * FROM mp_jobs WHERE queue = ? AND id = ?').get(queue, id) as JobRow | undefined;
    return row ? this.#info(row) : null;
  }

  async clean(queue: string, state: FinishedState, olderThanMs: number, limit: number): Promise<number> {
    return this.#db.transaction((): number => {
      const ids = this.#stmt(`SELECT id FROM mp_jobs WHERE queue = ? AND state = ? AND finished_at_ms <= ? ORDER BY finished_at_ms LIMIT ?`)
        .all(queue, state, Date.now() - olderThanMs, limit) as Array<{ id: string }>;
      const deleteJob = this.#stmt('DELETE FROM mp_jobs WHERE id = ?');
      const deleteCheckpoints = this.#stmt('DELETE FROM mp_checkpoints WHERE job_id = ?');
      for (const { id } of ids) {
        deleteCheckpoints.run(id);
        deleteJob.run(id);
      }
      return ids.length;
    }).immediate();
  }

  async depth(queue: string): Promise<QueueDepth> {
    const rows = this.#stmt('SELECT state, COUNT(*) AS n FROM mp_jobs WHERE queue = ? GROUP BY state').all(queue) as { state: JobState; n: number }[];
    const d = { waiting: 0, delayed: 0, active: 0, completed: 0, dead: 0, cancelled: 0 };
    for (const r of rows) d[r.state] = r.n;
    return d;
  }

  async subscribe(queue: string, listener: QueueEventListener): Promise<() => Promise<void>> {
    const maxRow = this.#stmt('SELECT MAX(seq) AS seq FROM mp_events').get() as { seq: number | null };
    let after = maxRow.seq ?? 0;
    const read = this.#stmt('SELECT seq, job_id, type, data FROM mp_events WHERE queue = ? AND seq > ? ORDER BY seq LIMIT 1000');
    const poll = (): void => {
      if (this.#closed) return;
      const rows = read.all(queue, after) as { seq: number; job_id: string; type: QueueEventType; data: string | null }[];
      for (const r of rows) {
        after = r.seq;
        listener({ type: r.type, queue, id: r.job_id, data: r.data === null ? null : (JSON.parse(r.data) as unknown) });
      }
    };
    const timer = setInterval(poll, this.#eventPollMs);
    timer.unref();
    this.#pollers.add(timer);
    return async () => {
      clearInterval(timer);
      this.#pollers.delete(timer);
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#pollers) clearInterval(t);
    this.#pollers.clear();
    this.#db.close();
  }

  /** Statements are compiled once per SQL text. */
  #stmt(sql: string): Database.Statement {
    let s = this.#statements.get(sql);
    if (!s) {
      s = this.#db.prepare(sql);
      this.#statements.set(sql, s);
    }
    return s;
  }

  #countUnfinished(queue: string): number {
    const r = this.#stmt(`SELECT COUNT(*) AS n FROM mp_jobs WHERE queue = ? AND state IN ('waiting', 'delayed', 'active')`)
      .get(queue) as { n: number };
    return r.n;
  }

  #held(job: ClaimedJob): JobRow | undefined {
    return this.#stmt(`SELECT * FROM mp_jobs WHERE id = ? AND state = 'active' AND token = ?`).get(job.id, job.token) as JobRow | undefined;
  }

  #finish(row: JobRow, state: 'dead' | 'cancelled', error: string, attempts: number, now: number): void {
    this.#stmt(`UPDATE mp_jobs SET state = ?, error = ?, attempts_made = ?, token = NULL, lease_until_ms = NULL,
      finished_at_ms = ? WHERE id = ?`).run(state, error, attempts, now, row.id);
    this.#event(row.queue, row.id, state, error);
  }

  #nextSeq(): number {
    const r = this.#stmt(`INSERT INTO mp_counters (name, value) VALUES ('seq', 1)
      ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value`).get() as { value: number };
    return r.value % PRIORITY_SHIFT;
  }

  #event(queue: string, id: string, type: QueueEventType, data: unknown): void {
    this.#stmt('INSERT INTO mp_events (queue, job_id, type, data) VALUES (?, ?, ?, ?)')
      .run(queue, id, type, data === null || data === undefined ? null : JSON.stringify(data));
  }

  #checkpoints(id: string): Record<string, unknown> {
    const rows = this.#stmt('SELECT key, value FROM mp_checkpoints WHERE job_id = ?').all(id) as { key: string; value: string }[];
    const out: Record<string, unknown> = {};
    for (const r of rows) out[r.key] = JSON.parse(r.value) as unknown;
    return out;
  }

  #info(r: JobRow): JobInfo {
    return {
      id: r.id, queue: r.queue, state: r.state as JobState, payload: JSON.parse(r.payload) as unknown, priority: r.priority,
      attemptsMade: r.attempts_made, maxAttempts: r.max_attempts, idempotencyKey: r.idempotency_key,
      result: r.result === null ? null : (JSON.parse(r.result) as unknown), error: r.error,
      progress: r.progress === null ? null : (JSON.parse(r.progress) as unknown),
      checkpoints: this.#checkpoints(r.id), createdAtMs: r.created_at_ms, finishedAtMs: r.finished_at_ms,
    };
  }
}

function mkdirDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}
