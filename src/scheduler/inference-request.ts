import type { MpError } from '../errors.js';
import type { TensorMap } from '../tensor/tensor.js';
import type { Queued } from './request-queue.js';
import type { RequestTrace } from './request-trace.js';

/**
 * One inference request as the scheduler holds it. Every field is set in the constructor so all
 * requests share one hidden class; `settled` guards against answering twice.
 */
export class InferenceRequest implements Queued {
  settled = false;
  /** NEW -> QUEUED -> RUNNING; a QUEUED request that settles is a tombstone in its queue. */
  phase: 0 | 1 | 2 = 0;
  /** Index into the scheduler's priority levels (0 = highest). */
  levelIndex = 0;
  enqueuedAtUs = 0;
  /** Absolute deadline in the scheduler clock's µs; 0 = none. */
  deadlineUs = 0;
  /** Time spent before submission (receiving and parsing the HTTP request), counted against the timeout. */
  elapsedBeforeUs = 0;
  /** Filled by the scheduler: µs queued, µs its batch took (input + infer + output), rows in that batch. */
  queueUs = 0;
  computeUs = 0;
  batchRows = 0;
  /** Present only when the request is traced. */
  trace: RequestTrace | undefined = undefined;
  /** Text models: the request's tokens, its cost against the batch's max_batch_tokens (0 = not counted). */
  tokens = 0;

  constructor(
    readonly inputs: TensorMap,
    /** Outputs the client asked for; undefined = all of the model's outputs. */
    readonly outputNames: readonly string[] | undefined,
    /** Rows this request contributes along the batch dimension (1 when the model has none). */
    readonly batchSize: number,
    /** Non-batch shapes of all inputs, padded dimensions left out: requests batch only with equal keys. */
    readonly shapeKey: string,
    /** This request's length along each padded input dimension, in the policy's padded-input order. */
    readonly padLengths: readonly number[],
    /** Requested priority (0 = the model's default level), and timeout override in µs (0 = none). */
    readonly priority: number,
    readonly timeoutUs: number,
    private readonly onSuccess: (outputs: TensorMap) => void,
    private readonly onFailure: (error: MpError) => void,
  ) {}

  resolve(outputs: TensorMap): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.onSuccess(outputs);
    return true;
  }

  reject(error: MpError): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.onFailure(error);
    return true;
  }
}
