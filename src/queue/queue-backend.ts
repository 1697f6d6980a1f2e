/**
 * The durable queue contract shared by the embedded (SQLite) and distributed (Redis/BullMQ) backends.
 * It speaks queue semantics only: no SQL or Redis command leaks through it.
 *
 * Delivery is at-least-once. A claimed job is leased to one worker (`token`) until `leaseMs` passes
 * without a `heartbeat`; after that `recoverStalled` hands it to another worker. Every write a worker
 * makes about a job (`heartbeat`, `checkpoint`, `progress`, `complete`, `fail`) is fenced by the token:
 * a worker that lost its lease gets `'lost'`/`false` back and its write is dropped.
 *
 * All methods are safe to call concurrently from many processes sharing the same data.
 */
export interface RetryPolicy {
  /** Total deliveries that may fail before the job moves to the dead-letter queue (>= 1). */
  readonly maxAttempts: number;
  /** Delay before the 2nd attempt; doubles each attempt. */
  readonly backoffMs: number;
  /** Upper bound of any single backoff delay. */
  readonly maxBackoffMs: number;
  /** 0..1: the delay is drawn uniformly from [d * (1 - jitter), d]. */
  readonly jitter: number;
}

export const DEFAULT_RETRY: RetryPolicy = Object.freeze({ maxAttempts: 3, backoffMs: 1000, maxBackoffMs: 60_000, jitter: 0.5 });

/** Lower runs first. Range 0..MAX_PRIORITY. */
export const DEFAULT_PRIORITY = 100;
export const MAX_PRIORITY = 1_000_000;

export interface EnqueueRequest {
  readonly queue: string;
  /** JSON-serialisable. */
  readonly payload: unknown;
  /** Same key (per queue) returns the same job, whatever its state, for as long as the job is kept. */
  readonly idempotencyKey?: string;
  readonly priority?: number;
  readonly delayMs?: number;
  readonly retry?: Partial<RetryPolicy>;
  /** Refuse (status 'full') when the queue already holds this many unfinished jobs. */
  readonly maxQueued?: number;
}

export type EnqueueOutcome =
  | { readonly status: 'created' | 'existing'; readonly id: string }
  | { readonly status: 'full'; readonly depth: number };

export type JobState = 'waiting' | 'delayed' | 'active' | 'completed' | 'dead' | 'cancelled';
/** The states a job ends in, which retention removes after their keep time. */
export type FinishedState = 'completed' | 'dead' | 'cancelled';

/** A job leased to the caller by `claim`. */
export interface ClaimedJob {
  readonly id: string;
  readonly queue: string;
  readonly payload: unknown;
  /** 1 on first delivery; a re-delivery after a lease expiry keeps the attempt number. */
  readonly attempt: number;
  readonly maxAttempts: number;
  /** Fences every later write about this job. */
  readonly token: string;
  /** Values saved with `checkpoint` by earlier deliveries of the same job. */
  readonly checkpoints: Readonly<Record<string, unknown>>;
}

export interface JobInfo {
  readonly id: string;
  readonly queue: string;
  readonly state: JobState;
  readonly payload: unknown;
  readonly priority: number;
  /** Failed attempts so far. */
  readonly attemptsMade: number;
  readonly maxAttempts: number;
  readonly idempotencyKey: string | null;
  readonly result: unknown;
  readonly error: string | null;
  readonly progress: unknown;
  readonly checkpoints: Readonly<Record<string, unknown>>;
  readonly createdAtMs: number;
  readonly finishedAtMs: number | null;
}

export interface QueueDepth {
  readonly waiting: number;
  readonly delayed: number;
  readonly active: number;
  readonly completed: number;
  readonly dead: number;
  readonly cancelled: number;
}

/** Unfinished jobs: what backpressure counts. */
export function unfinished(d: QueueDepth): number {
  return d.waiting + d.delayed + d.active;
}

export type HeartbeatOutcome = 'ok' | 'cancelled' | 'lost';
/** `retrying`: back off then re-deliver; `dead`: moved to the DLQ; `cancelled`: a cancel was pending. */
export type FailOutcome = 'retrying' | 'dead' | 'cancelled' | 'lost';
export type CancelOutcome = 'cancelled' | 'cancelling' | 'finished' | 'not-found';

export type QueueEventType = 'enqueued' | 'active' | 'progress' | 'retrying' | 'completed' | 'dead' | 'cancelled';

export interface QueueEvent {
  readonly type: QueueEventType;
  readonly queue: string;
  readonly id: string;
  /** `progress`: the reported value; `dead`/`retrying`: the error message. */
  readonly data: unknown;
}

export type QueueEventListener = (event: QueueEvent) => void;

export interface ClaimOptions {
  /** Lease length; the holder must heartbeat before it passes. */
  readonly leaseMs: number;
}

export interface FailOptions {
  /** false: skip remaining attempts and go straight to the DLQ. */
  readonly retryable: boolean;
}

export interface QueueBackend {
  /** Adds a job, or returns the job already holding `idempotencyKey`, or refuses when `maxQueued` is reached. */
  enqueue(req: EnqueueRequest): Promise<EnqueueOutcome>;
  /** Leases the next due job (lowest priority, then FIFO), or null when none is due. Never blocks. */
  claim(queue: string, options: ClaimOptions): Promise<ClaimedJob | null>;
  /** Extends the lease. 'cancelled' asks the holder to stop and call `fail`. */
  heartbeat(job: ClaimedJob, leaseMs: number): Promise<HeartbeatOutcome>;
  /**
   * Records a named intermediate value that later deliveries see in `checkpoints`; with `progress`, also
   * stores it and publishes a progress event, in the same write.
   */
  checkpoint(job: ClaimedJob, key: string, value: unknown, progress?: unknown): Promise<boolean>;
  /** Publishes a progress event and stores the latest value. */
  progress(job: ClaimedJob, value: unknown): Promise<boolean>;
  complete(job: ClaimedJob, result: unknown): Promise<boolean>;
  /** Schedules a retry with exponential backoff and jitter, or dead-letters after `maxAttempts`. */
  fail(job: ClaimedJob, error: string, options?: FailOptions): Promise<FailOutcome>;
  /** Makes delayed jobs whose time has come claimable; returns how many moved. */
  promoteDelayed(queue: string): Promise<number>;
  /**
   * Returns jobs whose lease expired to the waiting state (or to the DLQ past the stall limit);
   * returns how many were recovered.
   */
  recoverStalled(queue: string): Promise<number>;
  /** Waiting/delayed jobs are cancelled at once; an active job is flagged and stops at its next heartbeat. */
  cancel(queue: string, id: string): Promise<CancelOutcome>;
  /** Moves dead jobs (one, or all when `id` is omitted) back to waiting with a fresh attempt budget. */
  redrive(queue: string, id?: string): Promise<number>;
  listDead(queue: string, options?: { readonly limit?: number; readonly offset?: number }): Promise<JobInfo[]>;
  get(queue: string, id: string): Promise<JobInfo | null>;
  /**
   * Deletes up to `limit` jobs that reached `state` at least `olderThanMs` ago, with everything kept about
   * them (checkpoints, results); returns how many (BullMQ's `Queue.clean`). Their idempotency keys are free again.
   */
  clean(queue: string, state: FinishedState, olderThanMs: number, limit: number): Promise<number>;
  depth(queue: string): Promise<QueueDepth>;
  /** Delivers events for `queue` published by any process; resolves once listening. */
  subscribe(queue: string, listener: QueueEventListener): Promise<() => Promise<void>>;
  /** Idempotent. */
  close(): Promise<void>;
}
