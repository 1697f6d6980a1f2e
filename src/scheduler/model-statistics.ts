import type { ErrorCode } from '../errors.js';
import type { SchedulerStats } from './stats.js';

interface Duration { count: number; ns: number }

function add(d: Duration, us: number): void {
  d.count++;
  d.ns += Math.round(us * 1000);
}

/**
 * Per-version counters in the shape of Triton's statistics extension (`/v2/models/{m}/stats`):
 * inferences (rows) and executions (batches), success/fail/queue/compute durations, per-batch-size
 * compute, plus the refusals by code that Triton does not count.
 */
export class ModelStatistics implements SchedulerStats {
  inferenceCount = 0;
  executionCount = 0;
  lastInferenceMs = 0;
  readonly success: Duration = { count: 0, ns: 0 };
  readonly fail: Duration = { count: 0, ns: 0 };
  readonly queue: Duration = { count: 0, ns: 0 };
  readonly computeInfer: Duration = { count: 0, ns: 0 };
  readonly byBatchSize = new Map<number, Duration>();
  readonly rejected = new Map<ErrorCode, number>();

  batchExecuted(batchSize: number, _requestCount: number, computeUs: number): void {
    this.inferenceCount += batchSize;
    this.executionCount++;
    this.lastInferenceMs = Date.now();
    add(this.computeInfer, computeUs);
    let d = this.byBatchSize.get(batchSize);
    if (!d) this.byBatchSize.set(batchSize, (d = { count: 0, ns: 0 }));
    add(d, computeUs);
  }

  requestQueued(queueUs: number): void {
    add(this.queue, queueUs);
  }

  requestRejected(code: ErrorCode): void {
    this.rejected.set(code, (this.rejected.get(code) ?? 0) + 1);
  }

  requestSucceeded(totalUs: number): void {
    add(this.success, totalUs);
  }

  requestFailed(totalUs: number): void {
    add(this.fail, totalUs);
  }

  /** Triton's `model_stats` entry. */
  toJSON(name: string, version: number): object {
    const zero = { count: 0, ns: 0 };
    return {
      name,
      version: String(version),
      last_inference: this.lastInferenceMs,
      inference_count: this.inferenceCount,
      execution_count: this.executionCount,
      inference_stats: {
        success: this.success, fail: this.fail, queue: this.queue,
        compute_input: zero, compute_infer: this.computeInfer, compute_output: zero,
      },
      batch_stats: [...this.byBatchSize].sort((a, b) => a[0] - b[0]).map(([batch_size, d]) => ({
        batch_size, compute_input: zero, compute_infer: d, compute_output: zero,
      })),
      rejected: Object.fromEntries(this.rejected),
    };
  }
}
