import type { TensorMap } from '../tensor/tensor.js';
import type { ModelInstance } from './backend.js';

/**
 * `instance_count` loaded copies of one model version; each runs one batch at a time.
 * `tryRun` is the scheduler's entry: it returns undefined when every instance is busy (backpressure
 * as a return value), and `onIdle` fires each time an instance frees up (before the run's own promise
 * settles; the scheduler pulls the next batch from that promise's callback, once it has recorded the time).
 */
export class InstancePool {
  private readonly idle: ModelInstance[];
  private inFlight = 0;
  private drainWaiters: Array<() => void> = [];
  onIdle: () => void = () => {};

  constructor(private readonly instances: readonly ModelInstance[]) {
    this.idle = [...instances];
  }

  get size(): number {
    return this.instances.length;
  }

  /** Bytes of the instances' memory on huge pages (0 where none). */
  get hugePageBytes(): number {
    return this.instances.reduce((sum, i) => sum + (i.hugePageBytes ?? 0), 0);
  }

  get busy(): number {
    return this.inFlight;
  }

  hasIdle(): boolean {
    return this.idle.length > 0;
  }

  /** Starts a run on an idle instance, or returns undefined when all are busy. */
  tryRun(inputs: TensorMap, outputNames: readonly string[]): Promise<TensorMap> | undefined {
    const instance = this.idle.pop();
    if (!instance) return undefined;
    this.inFlight++;
    return instance.run(inputs, outputNames).finally(() => {
      this.inFlight--;
      this.idle.push(instance);
      if (this.inFlight === 0) this.resolveDrain();
      this.onIdle();
    });
  }

  /** Resolves once no run is in flight. */
  drain(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  async release(): Promise<void> {
    await this.drain();
    await Promise.all(this.instances.map((i) => i.release()));
  }

  private resolveDrain(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }
}
