import type { ModelConfig } from '../config/model-config.js';
import { NUMERIC_TYPES } from '../tensor/datatype.js';
import type { TensorMap } from '../tensor/tensor.js';
import type { ModelInstance } from '../runtime/backend.js';
import { warmupInputs } from './warmup.js';

/**
 * `instance_kind: auto` runs a model on the server's own thread when its largest batch computes in
 * less than this (measured through the instance thread, so the message hop is included): below it the
 * hop to a thread and back costs more than the compute, and blocking the event loop this long delays a
 * refusal less than the hop would. Measured on the tiny bench model at concurrency 64: 21.7k
 * inferences/s inline against 17.9k in a thread (docs/benchmarks.md, "Session 9").
 */
export const AUTO_INLINE_MAX_MS = 1;

/** How many timed runs; the fastest counts (the first may still pay for lazy init). */
const TIMED_RUNS = 3;

export type ResolvedInstanceKind = 'worker' | 'inline';

/**
 * Why `auto` must stay in a thread whatever the timing says, or undefined when a timed run decides:
 * a timed run only stands for real requests when every input's shape is known (variable dimensions
 * would be timed at 1: an image width of 1 says nothing about a 320-pixel line) and numeric (text
 * and images are as costly as their content).
 */
export function autoNeedsThread(config: ModelConfig): string | undefined {
  if (config.instance_cpus !== undefined) return 'instance_cpus binds instance threads';
  if (config.instance_count > 1) return 'instance_count > 1 asks for concurrent executions';
  if (config.text_embedding || config.image) return 'pre-processing inside the model';
  for (const input of config.inputs) {
    if (!(input.datatype in NUMERIC_TYPES)) return `input '${input.name}' is ${input.datatype}`;
    const given = config.warmup.inputs[input.name]?.dims;
    if ((given ?? input.dims).includes(-1)) return `input '${input.name}' has a variable dimension (give warmup.inputs.${input.name}.dims to time it)`;
  }
  return undefined;
}

/** A request of the largest batch the model takes, built as warm-up builds its request. */
export function largestBatchInputs(config: ModelConfig): TensorMap {
  const batch = Math.max(1, config.max_batch_size);
  return warmupInputs({ ...config, warmup: { ...config.warmup, batch_size: batch } });
}

/**
 * Resolves `instance_kind: auto` with the model's first instance (started in its own thread): the
 * fastest of a few runs of the largest batch against AUTO_INLINE_MAX_MS. Returns the kind and the
 * time measured (undefined when the config decided).
 */
export async function resolveInstanceKind(config: ModelConfig, threaded: ModelInstance): Promise<{ kind: ResolvedInstanceKind; largestBatchMs: number | undefined }> {
  if (config.instance_kind !== 'auto') return { kind: config.instance_kind, largestBatchMs: undefined };
  if (autoNeedsThread(config) !== undefined) return { kind: 'worker', largestBatchMs: undefined };
  const inputs = largestBatchInputs(config);
  const outputs = config.outputs.map((o) => o.name);
  let fastest = Infinity;
  for (let i = 0; i < TIMED_RUNS; i++) {
    const started = performance.now();
    await threaded.run(inputs, outputs);
    fastest = Math.min(fastest, performance.now() - started);
  }
  return { kind: fastest < AUTO_INLINE_MAX_MS ? 'inline' : 'worker', largestBatchMs: fastest };
}
