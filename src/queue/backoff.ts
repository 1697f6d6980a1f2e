import { DEFAULT_RETRY, MAX_PRIORITY, type RetryPolicy } from './queue-backend.js';
import { MpError } from '../errors.js';

/**
 * Delay before attempt `failedAttempts + 1`: backoffMs * 2^(failedAttempts - 1), capped at maxBackoffMs,
 * then jittered down by up to `jitter` of itself so workers that failed together do not retry together.
 */
export function backoffDelayMs(policy: RetryPolicy, failedAttempts: number, random: () => number = Math.random): number {
  const exp = policy.backoffMs * 2 ** Math.max(0, failedAttempts - 1);
  const capped = Math.min(policy.maxBackoffMs, exp);
  return Math.max(0, Math.floor(capped * (1 - policy.jitter * random())));
}

/** Fills a partial retry policy with defaults and checks its ranges. */
export function resolveRetry(partial: Partial<RetryPolicy> | undefined): RetryPolicy {
  const p = { ...DEFAULT_RETRY, ...partial };
  if (!Number.isInteger(p.maxAttempts) || p.maxAttempts < 1) {
    throw new MpError('MP_INVALID_ARG', `retry.maxAttempts must be an integer >= 1, got ${p.maxAttempts}`);
  }
  if (!(p.backoffMs >= 0) || !(p.maxBackoffMs >= 0)) throw new MpError('MP_INVALID_ARG', 'retry backoff must be >= 0 ms');
  if (!(p.jitter >= 0 && p.jitter <= 1)) throw new MpError('MP_INVALID_ARG', `retry.jitter must be within 0..1, got ${p.jitter}`);
  return p;
}

export function checkPriority(priority: number): number {
  if (!Number.isInteger(priority) || priority < 0 || priority > MAX_PRIORITY) {
    throw new MpError('MP_INVALID_ARG', `priority must be an integer within 0..${MAX_PRIORITY}, got ${priority}`);
  }
  return priority;
}

/** Messages both backends use for the same outcome. */
export const QUEUE_MESSAGES = {
  stalledTooOften: (maxStalls: number) => `job lease expired more than ${maxStalls} times`,
  cancelled: 'job cancelled',
} as const;
