import { MpError, isMpError, type ErrorCode } from '../errors.js';
import type { ModelConfig, TensorSpec } from '../config/model-config.js';
import type { Tensor, TensorMap } from '../tensor/tensor.js';
import type { DynamicBatcher } from '../scheduler/dynamic-batcher.js';
import { InferenceRequest } from '../scheduler/inference-request.js';
import type { BatchLayout } from '../scheduler/batch-assembler.js';
import type { InstancePool } from '../runtime/instance-pool.js';
import { ModelStatistics } from '../scheduler/model-statistics.js';
import { RequestTrace, type TraceParent } from '../scheduler/request-trace.js';
import type { RequestAdmission } from '../processing/instance-factory.js';

/**
 * What `infer` needs of a cancellation. An AbortSignal has it; the HTTP routes pass a lighter one
 * (server/client-abort.ts), since an AbortController per request costs an EventTarget per request.
 */
export interface CancelSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export interface InferOptions {
  /** Output names to return; undefined = all. */
  readonly outputs?: readonly string[] | undefined;
  /** Priority level (1 = highest); 0 or undefined = the model's default. */
  readonly priority?: number | undefined;
  /** Queue timeout override in µs (honoured only where the queue policy allows it). */
  readonly timeoutUs?: number | undefined;
  /** Aborts a still-queued request (e.g. the client closed its connection). */
  readonly signal?: CancelSignal | undefined;
  /** Trace the request's queue wait and compute under this parent span. */
  readonly trace?: TraceParent | undefined;
  /** Filled in when the request settles, for access logs. */
  readonly timing?: RequestTiming | undefined;
  /** µs the request already spent before `infer` (receiving, parsing): counted against its timeout. */
  readonly elapsedUs?: number | undefined;
  /** Text models: cut inputs longer than the model's max_tokens (true) or refuse them (false); undefined = the model's policy. */
  readonly truncate?: boolean | undefined;
}

/** Where one request's time went, in µs, and the rows of the batch it ran in. */
export interface RequestTiming {
  queueUs: number;
  computeUs: number;
  batchRows: number;
}

const REFUSAL_MESSAGES: Partial<Record<ErrorCode, string>> = {
  MP_OVERLOADED: 'the queue is full',
  MP_QUEUE_TIMEOUT: 'the request cannot be scheduled within its queue timeout',
  MP_SHUTTING_DOWN: 'the model is being unloaded',
  MP_INVALID_ARG: 'priority is out of range',
};

/**
 * Everything the request path needs for one ready model version, prepared at load: the input
 * specs by name, the batch layout and the scheduler. `infer` validates and submits.
 */
export class ServingContext {
  private readonly inputSpecs: ReadonlyMap<string, TensorSpec>;
  private readonly outputSpecs: ReadonlyMap<string, TensorSpec>;
  private readonly paddedDims: ReadonlyMap<string, number>;
  /** How long loading (instances + warm-up) took. */
  loadSeconds = 0;

  constructor(
    readonly name: string,
    readonly version: number,
    readonly config: ModelConfig,
    readonly platform: string,
    readonly batcher: DynamicBatcher,
    private readonly layout: BatchLayout,
    private readonly pool: InstancePool,
    readonly statistics: ModelStatistics = new ModelStatistics(),
    private readonly checkInput: ((tensor: Tensor) => string | undefined) | undefined = undefined,
    /** Pre-processing's request-time check (e.g. tokenization); returns the request's token count. */
    readonly admission: RequestAdmission | undefined = undefined,
  ) {
    this.inputSpecs = new Map(config.inputs.map((s) => [s.name, s]));
    this.outputSpecs = new Map(config.outputs.map((s) => [s.name, s]));
    this.paddedDims = new Map(layout.paddedInputs.map((p) => [p.name, p.dim]));
  }

  /** Bytes of the instances' weights on huge pages (onnx.huge_pages). */
  get hugePageBytes(): number {
    return this.pool.hugePageBytes;
  }

  /** Stops admitting, lets queued and running work finish, then frees the instances. */
  async unload(): Promise<void> {
    this.batcher.close(false);
    await this.batcher.whenIdle();
    await this.pool.release();
  }

  inputSpec(name: string): TensorSpec | undefined {
    return this.inputSpecs.get(name);
  }

  infer(inputs: TensorMap, options: InferOptions = {}): Promise<TensorMap> {
    let checked: ReturnType<ServingContext['check']>;
    let tokens: ReturnType<RequestAdmission['admit']> | 0;
    try {
      checked = this.check(inputs, options);
      tokens = this.admission ? this.admission.admit(inputs, options.truncate) : 0;
    } catch (err) {
      return this.refused(err);
    }
    // Asynchronous pre-processing (image decoding) finishes before the request queues.
    if (typeof tokens !== 'number') return tokens.then((n) => this.submit(inputs, options, checked, n), (err: unknown) => this.refused(err));
    return this.submit(inputs, options, checked, tokens);
  }

  /** Counts a request refused before it reached the scheduler (invalid input or pre-processing), then rethrows. */
  private refused(err: unknown): never {
    this.statistics.requestFailed(0, isMpError(err) ? err.code : 'MP_INTERNAL');
    throw err;
  }

  private submit(inputs: TensorMap, options: InferOptions, checked: { batchSize: number; shapeKey: string; padLengths: number[] }, tokens: number): Promise<TensorMap> {
    const stats = this.statistics;
    const { batchSize, shapeKey, padLengths } = checked;
    const startedMs = performance.now();
    return new Promise<TensorMap>((resolve, reject) => {
      const { signal, timing } = options;
      let onAbort: (() => void) | undefined;
      const settle = (r: InferenceRequest, error: MpError | undefined) => {
        if (onAbort) signal!.removeEventListener('abort', onAbort);
        stats.inFlight--;
        if (timing) {
          timing.queueUs = r.queueUs;
          timing.computeUs = r.computeUs;
          timing.batchRows = r.batchRows;
        }
        r.trace?.settled(error);
      };
      const request: InferenceRequest = new InferenceRequest(
        inputs, options.outputs, batchSize, shapeKey, padLengths,
        options.priority ?? 0, options.timeoutUs ?? 0,
        (outputs) => {
          settle(request, undefined);
          stats.requestSucceeded((performance.now() - startedMs) * 1000);
          resolve(outputs);
        },
        (error) => {
          settle(request, error);
          stats.requestFailed((performance.now() - startedMs) * 1000, error.code);
          reject(error);
        },
      );
      if (options.elapsedUs) request.elapsedBeforeUs = options.elapsedUs;
      if (options.trace) request.trace = new RequestTrace(options.trace, { 'modelplane.model': this.name, 'modelplane.version': this.version });
      stats.inFlight++;
      request.tokens = tokens;
      const refusal = this.batcher.submit(request);
      if (refusal !== null) {
        request.reject(this.refusalError(refusal));
        return;
      }
      if (signal) {
        onAbort = () => this.batcher.cancel(request);
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      }
    });
  }

  /**
   * Refuses, before the request body is read, a request the scheduler would refuse whatever the body
   * says (queue full, or its deadline out of reach); throws the refusal, counted in statistics.
   */
  admitBeforeBody(elapsedUs: number): void {
    const refusal = this.batcher.refusesBeforeBody(elapsedUs);
    if (refusal === null) return;
    this.statistics.requestFailed(0, refusal);
    throw this.refusalError(refusal);
  }

  /** The error answering a scheduler refusal; a full queue says when to retry. */
  private refusalError(refusal: ErrorCode): MpError {
    const retryAfterSeconds = refusal === 'MP_OVERLOADED' ? this.batcher.retryAfterSeconds() : undefined;
    return new MpError(refusal, `model '${this.name}' version ${this.version}: ${REFUSAL_MESSAGES[refusal] ?? refusal}`, { retryAfterSeconds });
  }

  /** Checks inputs against the config; returns the request's batch size and batching key. */
  private check(inputs: TensorMap, options: InferOptions): { batchSize: number; shapeKey: string; padLengths: number[] } {
    const where = `model '${this.name}' version ${this.version}`;
    for (const name of inputs.keys()) {
      if (!this.inputSpecs.has(name)) {
        throw new MpError('MP_INVALID_ARG', `${where}: unknown input '${name}' (expected ${[...this.inputSpecs.keys()].map((n) => `'${n}'`).join(', ')})`);
      }
    }
    const batched = this.config.max_batch_size > 0;
    let batchSize = 1;
    let shapeKey = '';
    let first = true;
    for (const spec of this.config.inputs) {
      const t = inputs.get(spec.name);
      if (!t) throw new MpError('MP_INVALID_ARG', `${where}: missing input '${spec.name}'`);
      checkTensor(where, spec, t, batched, this.config.max_batch_size);
      const refusal = this.checkInput?.(t);
      if (refusal) throw new MpError('MP_INVALID_ARG', `${where}: input '${spec.name}': ${refusal}`);
      if (batched) {
        const b = t.shape[0]!;
        if (first) batchSize = b;
        else if (b !== batchSize) {
          throw new MpError('MP_INVALID_ARG', `${where}: input '${spec.name}' has batch size ${b} but other inputs have ${batchSize}`);
        }
      }
      first = false;
      const padded = this.paddedDims.get(spec.name);
      const dims = batched ? t.shape.slice(1) : t.shape;
      shapeKey += `${spec.name}:${dims.map((d, i) => (i === padded ? '*' : d)).join('x')};`;
    }
    const padLengths = this.layout.paddedInputs.map((p) => inputs.get(p.name)!.shape[p.dim + 1]!);
    if (options.outputs) {
      for (const name of options.outputs) {
        if (!this.outputSpecs.has(name)) {
          throw new MpError('MP_INVALID_ARG', `${where}: unknown output '${name}' (the model has ${[...this.outputSpecs.keys()].map((n) => `'${n}'`).join(', ')})`);
        }
      }
    }
    const levels = this.batcher.policy.levels.length;
    if (options.priority !== undefined && (options.priority < 0 || options.priority > levels || !Number.isInteger(options.priority))) {
      throw new MpError('MP_INVALID_ARG', `${where}: parameter 'priority' must be an integer from 0 to ${levels}, got ${options.priority}`);
    }
    return { batchSize, shapeKey, padLengths };
  }
}

function checkTensor(where: string, spec: TensorSpec, t: Tensor, batched: boolean, maxBatchSize: number): void {
  if (t.datatype !== spec.datatype) {
    throw new MpError('MP_INVALID_ARG', `${where}: input '${spec.name}' expects ${spec.datatype}, got ${t.datatype}`);
  }
  const expectedRank = spec.dims.length + (batched ? 1 : 0);
  const shapeText = `[${t.shape.join(',')}]`;
  const wanted = `[${batched ? '-1,' : ''}${spec.dims.join(',')}]`;
  if (t.shape.length !== expectedRank) {
    throw new MpError('MP_INVALID_ARG', `${where}: input '${spec.name}' has shape ${shapeText}, expected ${wanted}`);
  }
  if (batched) {
    const b = t.shape[0]!;
    if (b < 1 || b > maxBatchSize) {
      throw new MpError('MP_INVALID_ARG', `${where}: input '${spec.name}' has batch size ${b}, the model accepts 1 to ${maxBatchSize}`);
    }
  }
  const offset = batched ? 1 : 0;
  spec.dims.forEach((d, i) => {
    if (d !== -1 && t.shape[i + offset] !== d) {
      throw new MpError('MP_INVALID_ARG', `${where}: input '${spec.name}' has shape ${shapeText}, expected ${wanted}`);
    }
  });
}
