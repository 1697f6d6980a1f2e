import type { ErrorCode } from '../errors.js';

/** Where the scheduler reports what it did; the default does nothing, app.ts plugs in metrics. */
export interface SchedulerStats {
  batchExecuted(batchSize: number, requestCount: number, computeUs: number): void;
  requestQueued(queueUs: number): void;
  requestRejected(code: ErrorCode): void;
}

export const noopSchedulerStats: SchedulerStats = {
  batchExecuted() {},
  requestQueued() {},
  requestRejected() {},
};
