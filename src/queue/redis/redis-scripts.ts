import { createHash } from 'node:crypto';
import { QUEUE_MESSAGES } from '../backoff.js';
import type { JobState, RetryPolicy } from '../queue-backend.js';

/** What a BullMQ job's data holds: the payload plus what BullMQ does not keep for us. */
export interface Envelope {
  readonly p: unknown;
  readonly r: RetryPolicy;
  readonly k: string | null;
  readonly pr: number;
  /** Submission nonce: tells a fresh add from BullMQ returning the job already holding the id. */
  readonly n: string;
}

export const BULLMQ_STALLED_REASON = 'job stalled more than allowable limit';

/**
 * Writes `value` into the job's checkpoint hash only while `token` still holds BullMQ's job lock.
 * KEYS[1] job lock key, KEYS[2] checkpoint hash; ARGV[1] token, ARGV[2] field, ARGV[3] JSON value.
 */
export const FENCED_HSET = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('HSET', KEYS[2], ARGV[2], ARGV[3]) return 1 end return 0`;
/** KEYS[1] lock key; ARGV[1] token. Deletes the lock only if the token still holds it. */
export const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
/** Delayed jobs examined per promoteDelayed call. */
export const PROMOTE_PAGE = 1000;
/** Longest a crashed producer can block admission to one queue. */
export const ADMISSION_LOCK_MS = 2000;
/** KEYS[1] job lock key; ARGV[1] token. 1 while the token holds the lock. */
export const LOCK_HELD = `if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end return 0`;

/** The BullMQ job id for an idempotency key: stable, and free of the ':' BullMQ forbids. */
export function idForKey(queue: string, key: string): string {
  return 'k' + createHash('sha256').update(queue).update('\0').update(key).digest('hex').slice(0, 40);
}

/** BullMQ's failure reasons in the words both backends use. */
export function failureMessage(reason: string | undefined, maxStalls: number): string | undefined {
  return reason === BULLMQ_STALLED_REASON ? QUEUE_MESSAGES.stalledTooOften(maxStalls) : reason;
}

/** Keys Modelplane adds beside BullMQ's, under the same `prefix:queue:` namespace. */
export class RedisKeys {
  constructor(private readonly prefix: string) {}
  /** BullMQ's own job lock key: its value is the lease token. */
  lock(queue: string, id: string): string {
    return `${this.prefix}:${queue}:${id}:lock`;
  }
  checkpoints(queue: string, id: string): string {
    return `${this.prefix}:${queue}:${id}:mp-checkpoints`;
  }
  /** Hash id -> JobInfo snapshot of cancelled jobs (BullMQ removes them). */
  cancelled(queue: string): string {
    return `${this.prefix}:${queue}:mp-cancelled`;
  }
  /** Set of active job ids asked to stop. */
  cancelRequested(queue: string): string {
    return `${this.prefix}:${queue}:mp-cancel-requested`;
  }
  admission(queue: string): string {
    return `${this.prefix}:${queue}:mp-admission`;
  }
}

export function mapState(state: string): JobState {
  switch (state) {
    case 'completed': return 'completed';
    case 'failed': return 'dead';
    case 'active': return 'active';
    case 'delayed': return 'delayed';
    default: return 'waiting';
  }
}
