import type { Clock } from '../../../src/scheduler/clock.js';

/** A controllable clock: time moves only when the test advances it, firing due timers in order. */
export class FakeClock implements Clock {
  private now = 1_000_000;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private nextId = 1;
  private deferredFns: Array<() => void> = [];
  /** With `deferring`, `defer` queues until runDeferred() (as setImmediate waits for I/O); without, there is no defer. */
  readonly defer: ((fn: () => void) => void) | undefined;

  constructor(options: { deferring?: boolean } = {}) {
    this.defer = options.deferring ? (fn) => void this.deferredFns.push(fn) : undefined;
  }

  /** Runs what was deferred (and what that defers in turn). */
  runDeferred(): void {
    while (this.deferredFns.length > 0) this.deferredFns.shift()!();
  }

  nowUs(): number {
    return this.now;
  }

  setTimer(fn: () => void, delayUs: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.now + delayUs, fn });
    return id;
  }

  clearTimer(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  get pendingTimers(): number {
    return this.timers.size;
  }

  advance(us: number): void {
    const target = this.now + us;
    for (;;) {
      let due: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers) if (entry[1].at <= target && (!due || entry[1].at < due[1].at)) due = entry;
      if (!due) break;
      this.timers.delete(due[0]);
      this.now = due[1].at;
      due[1].fn();
    }
    this.now = target;
  }
}
