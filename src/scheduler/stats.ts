import type { TensorMap } from '../tensor/tensor.js';

/** Where one executed batch's time went, in µs: assembling inputs, the backend run, slicing outputs. */
export interface BatchTiming {
  readonly inputUs: number;
  readonly inferUs: number;
  readonly outputUs: number;
}

/** Where the scheduler reports what it did; the default does nothing, the serving context plugs in statistics. */
export interface SchedulerStats {
  batchExecuted(rows: number, requestCount: number, timing: BatchTiming): void;
  requestQueued(queueUs: number): void;
  /** A batch's full outputs, before they are sliced per request (for output monitoring). */
  outputsComputed(outputs: TensorMap): void;
}

export const noopSchedulerStats: SchedulerStats = {
  batchExecuted() {},
  requestQueued() {},
  outputsComputed() {},
};
