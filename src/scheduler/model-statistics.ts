import type { ErrorCode } from '../errors.js';
import type { TensorMap } from '../tensor/tensor.js';
import { BATCH_SIZE_BUCKETS, DURATION_BUCKETS_SECONDS, FixedHistogram } from './histogram.js';
import type { OutputConfidence } from './output-confidence.js';
import type { BatchTiming, SchedulerStats } from './stats.js';

interface Duration { count: number; ns: number }
interface BatchSizeStats { count: number; input: Duration; infer: Duration; output: Duration }

/** Why a request failed, as metrics label it: a bounded set, whatever the error. */
export type FailureReason = 'bad_request' | 'rejected' | 'timeout' | 'cancelled' | 'internal';

export function failureReason(code: ErrorCode): FailureReason {
  switch (code) {
    case 'MP_INVALID_ARG':
    case 'MP_UNSUPPORTED':
    case 'MP_UNSUPPORTED_MEDIA_TYPE':
    case 'MP_PAYLOAD_TOO_LARGE':
      return 'bad_request';
    case 'MP_OVERLOADED':
    case 'MP_SHUTTING_DOWN':
    case 'MP_MODEL_NOT_READY':
      return 'rejected';
    case 'MP_QUEUE_TIMEOUT':
      return 'timeout';
    case 'MP_CANCELLED':
      return 'cancelled';
    default:
      return 'internal';
  }
}

/** The reasons Triton's stats leave out, reported by code as `rejected`. */
const REFUSALS: ReadonlySet<FailureReason> = new Set(['rejected', 'timeout', 'cancelled']);

function add(d: Duration, us: number): void {
  d.count++;
  d.ns += Math.round(us * 1000);
}

/**
 * Per-version statistics, the one source for both Triton's statistics extension
 * (`/v2/models/{m}/stats`) and the Prometheus metrics, so the two always agree: inferences (rows)
 * and executions (batches), success/fail/queue/compute durations as count + ns, per-batch-size
 * compute, duration and batch-size histograms, failures by reason and by code, requests in flight
 * and, for outputs marked as class scores, a histogram of the top-1 score.
 */
export class ModelStatistics implements SchedulerStats {
  inferenceCount = 0;
  executionCount = 0;
  lastInferenceMs = 0;
  /** Requests admitted and not yet answered (queued or running). */
  inFlight = 0;
  readonly success: Duration = { count: 0, ns: 0 };
  readonly fail: Duration = { count: 0, ns: 0 };
  readonly queue: Duration = { count: 0, ns: 0 };
  readonly computeInput: Duration = { count: 0, ns: 0 };
  readonly computeInfer: Duration = { count: 0, ns: 0 };
  readonly computeOutput: Duration = { count: 0, ns: 0 };
  readonly byBatchSize = new Map<number, BatchSizeStats>();
  readonly failuresByReason = new Map<FailureReason, number>();
  readonly failuresByCode = new Map<ErrorCode, number>();
  readonly histograms = {
    request: new FixedHistogram(DURATION_BUCKETS_SECONDS),
    queue: new FixedHistogram(DURATION_BUCKETS_SECONDS),
    computeInput: new FixedHistogram(DURATION_BUCKETS_SECONDS),
    computeInfer: new FixedHistogram(DURATION_BUCKETS_SECONDS),
    computeOutput: new FixedHistogram(DURATION_BUCKETS_SECONDS),
    batchSize: new FixedHistogram(BATCH_SIZE_BUCKETS),
  };

  constructor(readonly confidence?: OutputConfidence) {}

  batchExecuted(rows: number, _requestCount: number, timing: BatchTiming): void {
    this.inferenceCount += rows;
    this.executionCount++;
    this.lastInferenceMs = Date.now();
    add(this.computeInput, timing.inputUs);
    add(this.computeInfer, timing.inferUs);
    add(this.computeOutput, timing.outputUs);
    const h = this.histograms;
    h.computeInput.observe(timing.inputUs / 1e6);
    h.computeInfer.observe(timing.inferUs / 1e6);
    h.computeOutput.observe(timing.outputUs / 1e6);
    h.batchSize.observe(rows);
    let d = this.byBatchSize.get(rows);
    if (!d) this.byBatchSize.set(rows, (d = { count: 0, input: { count: 0, ns: 0 }, infer: { count: 0, ns: 0 }, output: { count: 0, ns: 0 } }));
    d.count++;
    add(d.input, timing.inputUs);
    add(d.infer, timing.inferUs);
    add(d.output, timing.outputUs);
  }

  requestQueued(queueUs: number): void {
    add(this.queue, queueUs);
    this.histograms.queue.observe(queueUs / 1e6);
  }

  outputsComputed(outputs: TensorMap): void {
    this.confidence?.observe(outputs);
  }

  requestSucceeded(totalUs: number): void {
    add(this.success, totalUs);
    this.histograms.request.observe(totalUs / 1e6);
  }

  requestFailed(totalUs: number, code: ErrorCode): void {
    add(this.fail, totalUs);
    const reason = failureReason(code);
    this.failuresByReason.set(reason, (this.failuresByReason.get(reason) ?? 0) + 1);
    this.failuresByCode.set(code, (this.failuresByCode.get(code) ?? 0) + 1);
  }

  /** Triton's `model_stats` entry, plus `failures` (by reason) and `rejected` (refusals by code). */
  toJSON(name: string, version: number): object {
    const rejected = [...this.failuresByCode].filter(([code]) => REFUSALS.has(failureReason(code)));
    return {
      name,
      version: String(version),
      last_inference: this.lastInferenceMs,
      inference_count: this.inferenceCount,
      execution_count: this.executionCount,
      inference_stats: {
        success: this.success, fail: this.fail, queue: this.queue,
        compute_input: this.computeInput, compute_infer: this.computeInfer, compute_output: this.computeOutput,
      },
      batch_stats: [...this.byBatchSize].sort((a, b) => a[0] - b[0]).map(([batch_size, d]) => ({
        batch_size, compute_input: d.input, compute_infer: d.infer, compute_output: d.output,
      })),
      failures: Object.fromEntries(this.failuresByReason),
      rejected: Object.fromEntries(rejected),
    };
  }
}
