import type { TensorMap } from '../../tensor/tensor.js';
import type { ModelInstance, ModelSignature } from '../backend.js';

/**
 * A real, tiny backend for tests: each output `out_<x>` echoes input `<x>`. Runs finish only when
 * the test calls `finishNext()` (or at once with `autoFinish`), and every batch is recorded.
 */
export class EchoInstance implements ModelInstance {
  readonly batches: TensorMap[] = [];
  private readonly pending: Array<() => void> = [];
  released = false;

  constructor(
    readonly signature: ModelSignature,
    private readonly autoFinish = false,
  ) {}

  run(inputs: TensorMap, outputNames: readonly string[]): Promise<TensorMap> {
    this.batches.push(inputs);
    const out: TensorMap = new Map();
    for (const name of outputNames) {
      const source = inputs.get(name.replace(/^out_/, ''));
      if (source) out.set(name, { ...source, name });
    }
    if (this.autoFinish) return Promise.resolve(out);
    return new Promise((resolve) => this.pending.push(() => resolve(out)));
  }

  /** Completes the oldest unfinished run; returns false when none is running. */
  finishNext(): boolean {
    const next = this.pending.shift();
    if (!next) return false;
    next();
    return true;
  }

  get running(): number {
    return this.pending.length;
  }

  async release(): Promise<void> {
    this.released = true;
  }
}
