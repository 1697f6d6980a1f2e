import { setTimeout as sleep } from 'node:timers/promises';

/** Time source of the token bucket; tests pass a manual one. */
export interface LimiterClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

const REAL_CLOCK: LimiterClock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, undefined, signal ? { signal } : undefined),
};

/**
 * Per-step admission in one worker process: at most `concurrency` instances at once, and at most
 * `ratePerSecond` starts per second (token bucket holding one second of tokens).
 * Waiters are served in arrival order; an aborted waiter leaves the line.
 */
export class StepLimiter {
  readonly #concurrency: number;
  readonly #ratePerSecond: number;
  #running = 0;
  readonly #waiters: { resolve: () => void; signal: AbortSignal | undefined }[] = [];
  #head = 0;
  #tokens: number;
  readonly #clock: LimiterClock;
  #refilledAtMs: number;

  constructor(concurrency = Infinity, ratePerSecond = Infinity, clock: LimiterClock = REAL_CLOCK) {
    this.#concurrency = concurrency;
    this.#ratePerSecond = ratePerSecond;
    this.#clock = clock;
    this.#refilledAtMs = clock.now();
    this.#tokens = Number.isFinite(ratePerSecond) ? Math.max(1, ratePerSecond) : Infinity;
  }

  get running(): number {
    return this.#running;
  }

  /** Resolves with a release function once the caller may start. */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (this.#running >= this.#concurrency) {
      await new Promise<void>((resolve, reject) => {
        // An aborted waiter stays in the array; #next skips it.
        this.#waiters.push({ resolve, signal });
        signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
      });
    }
    this.#running++;
    try {
      await this.#takeToken(signal);
    } catch (err) {
      this.#release();
      throw err;
    }
    let released = false;
    return () => {
      if (!released) {
        released = true;
        this.#release();
      }
    };
  }

  #release(): void {
    this.#running--;
    this.#next();
  }

  #next(): void {
    if (this.#running >= this.#concurrency) return;
    while (this.#head < this.#waiters.length) {
      const w = this.#waiters[this.#head]!;
      this.#waiters[this.#head++] = undefined as never;
      if (this.#head > 1024 && this.#head * 2 > this.#waiters.length) {
        this.#waiters.splice(0, this.#head);
        this.#head = 0;
      }
      if (!w.signal?.aborted) {
        w.resolve();
        return;
      }
    }
  }

  async #takeToken(signal?: AbortSignal): Promise<void> {
    if (!Number.isFinite(this.#ratePerSecond)) return;
    for (;;) {
      const now = this.#clock.now();
      this.#tokens = Math.min(Math.max(1, this.#ratePerSecond), this.#tokens + ((now - this.#refilledAtMs) / 1000) * this.#ratePerSecond);
      this.#refilledAtMs = now;
      if (this.#tokens >= 1) {
        this.#tokens -= 1;
        return;
      }
      await this.#clock.sleep(Math.ceil(((1 - this.#tokens) / this.#ratePerSecond) * 1000), signal);
    }
  }
}
