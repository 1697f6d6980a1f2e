/** Time and one re-armable timer, injectable so batching decisions can be tested without real time. */
export interface Clock {
  nowUs(): number;
  /** Calls `fn` once after `delayUs`; a new call replaces nothing, the caller cancels. */
  setTimer(fn: () => void, delayUs: number): unknown;
  clearTimer(handle: unknown): void;
  /**
   * Runs `fn` once the I/O already received has been handled (setImmediate). Absent = at once.
   * The scheduler forms batches there, so every request that arrived in the same event-loop turn
   * joins the batch instead of the first one running alone.
   */
  defer?(fn: () => void): void;
}

const origin = process.hrtime.bigint();

export const systemClock: Clock = {
  nowUs: () => Number((process.hrtime.bigint() - origin) / 1000n),
  setTimer: (fn, delayUs) => setTimeout(fn, Math.max(0, delayUs / 1000)),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
  defer: (fn) => {
    setImmediate(fn);
  },
};
