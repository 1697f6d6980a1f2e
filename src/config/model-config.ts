import { z } from 'zod';
import { DATATYPES } from '../tensor/datatype.js';
import { ModelName } from './model-names.js';
import { TrafficPolicySchema } from './traffic-policy.js';
import { TextEmbeddingSchema, TfjsOptionsSchema } from './text-embedding-config.js';
import { ImageProcessingSchema } from './image-processing-config.js';

export { MODEL_NAME_PATTERN, VERSION_PATTERN, ModelName } from './model-names.js';

const Dims = z.array(z.int().min(-1).max(2 ** 31 - 1)).max(16);

export const TensorSpecSchema = z.strictObject({
  name: z.string().min(1).max(256),
  datatype: z.enum(DATATYPES),
  /** Without the batch dimension when max_batch_size > 0; -1 marks a variable dimension. */
  dims: Dims,
});
export type TensorSpec = z.infer<typeof TensorSpecSchema>;

export const OutputSpecSchema = TensorSpecSchema.extend({
  /**
   * Marks an output as class scores along its last dimension (`logits` are softmaxed first): the
   * top-1 score of every row is recorded in the `modelplane_output_confidence` histogram.
   */
  confidence: z.enum(['probabilities', 'logits']).optional(),
}).refine((o) => o.confidence === undefined || ['FP16', 'FP32', 'FP64'].includes(o.datatype), {
  message: 'confidence needs a floating-point output (FP16, FP32 or FP64)',
  path: ['confidence'],
});
export type OutputSpec = z.infer<typeof OutputSpecSchema>;

export const VersionPolicySchema = z.union([
  z.strictObject({ latest: z.strictObject({ num_versions: z.int().positive() }) }),
  z.strictObject({ all: z.strictObject({}) }),
  z.strictObject({ specific: z.strictObject({ versions: z.array(z.int().positive()).min(1) }) }),
]);
export type VersionPolicy = z.infer<typeof VersionPolicySchema>;

export const QueuePolicySchema = z.strictObject({
  /** 0 = unbounded is not allowed: every queue has a maximum so memory stays bounded. */
  max_queue_size: z.int().positive().default(1024),
  /** The answer is due within this many µs of arrival; a request that cannot make it is refused (503) without running. 0 = none. */
  default_timeout_us: z.int().nonnegative().default(0),
  allow_timeout_override: z.boolean().default(false),
  timeout_action: z.literal('reject').default('reject'),
});
export type QueuePolicy = z.infer<typeof QueuePolicySchema>;

export const DynamicBatchingSchema = z.strictObject({
  preferred_batch_sizes: z.array(z.int().positive()).default([]),
  /** How long the oldest request may wait for a fuller batch, in microseconds. */
  max_queue_delay_us: z.int().nonnegative().default(0),
  /**
   * Spend the queue delay only when more requests are expected: a batch is sent at once when it is
   * already as large as the last one that finished (a lone client gets no delay), and otherwise
   * waits up to max_queue_delay_us from the moment an instance freed up (the clients just answered
   * come back into one full batch). Off = Triton's rule: the delay counts from the oldest request.
   */
  adaptive_queue_delay: z.boolean().default(false),
  /** 0 = a single level. Levels are 1..priority_levels, 1 the highest, as in Triton. */
  priority_levels: z.int().nonnegative().max(16).default(0),
  default_priority_level: z.int().nonnegative().default(0),
  default_queue_policy: QueuePolicySchema.default(QueuePolicySchema.parse({})),
  priority_queue_policy: z.record(z.string().regex(/^[1-9][0-9]?$/), QueuePolicySchema).default({}),
  /**
   * Variable dimensions that may be padded so requests of different lengths share a batch
   * (token ids, attention masks, image widths). `dim` counts from the first non-batch dimension.
   * An output listed under `outputs` is trimmed back per request along `dim`, in proportion to the
   * request's own length of `input`'s padded dimension (e.g. CTC steps = width / 8).
   */
  padding: z
    .strictObject({
      inputs: z.record(z.string(), z.strictObject({ dim: z.int().nonnegative(), value: z.number().default(0) })).default({}),
      outputs: z.record(z.string(), z.strictObject({ dim: z.int().nonnegative(), input: z.string() })).default({}),
    })
    .default({ inputs: {}, outputs: {} }),
  /**
   * Token budget of one batch for text models (TEI's max_batch_tokens): the tokens of the requests in a
   * batch add up to at most this, next to max_batch_size. 0 = no budget. A longer single request still runs alone.
   */
  max_batch_tokens: z.int().nonnegative().default(0),
  /** Test and benchmark aid (Triton's TRITONSERVER_DELAY_SCHEDULER): hold batching until this many requests are queued. */
  delay_until_queued: z.int().nonnegative().default(0),
});
export type DynamicBatching = z.infer<typeof DynamicBatchingSchema>;

export const OnnxOptionsSchema = z.strictObject({
  intra_op_threads: z.int().nonnegative().default(0),
  inter_op_threads: z.int().nonnegative().default(0),
  /** In order of preference; ORT falls back along the list. `cuda` needs ORT's CUDA build. */
  execution_providers: z.array(z.enum(['cpu', 'cuda', 'tensorrt', 'dml', 'coreml'])).min(1).default(['cpu']),
  graph_optimization_level: z.enum(['disabled', 'basic', 'extended', 'all']).default('all'),
  /**
   * ORT's own default lets its threads spin between runs, which starves the thread that parses and
   * answers requests: measured on the tiny model, 4.2k -> 6.2k inferences/s at concurrency 64 with
   * spinning off (docs/benchmarks.md). Turn it on only where the model's compute dominates.
   */
  allow_spinning: z.boolean().default(false),
  /**
   * Put what the model's load allocated (its weights) on 2 MiB pages (Linux, src/runtime/huge-pages.ts):
   * a batch-1 inference of a memory-bound model streams every weight, and 4 KiB pages cost it a TLB
   * miss every 4 KiB (the 352 MB bench model: 9.8 ms instead of 10.9 at batch 1). `auto`: where the
   * machine can; `true`: required (the model is UNAVAILABLE where it cannot); `false`: never.
   */
  huge_pages: z.union([z.boolean(), z.literal('auto')]).default('auto'),
});

const WarmupInputSchema = z.strictObject({
  dims: Dims.optional(),
  /** Explicit sample data (flat, row-major), or a generator. */
  data: z.union([z.array(z.union([z.number(), z.string(), z.boolean()])), z.enum(['zero', 'random'])]).default('zero'),
});

export const WarmupSchema = z.strictObject({
  enabled: z.boolean().default(true),
  batch_size: z.int().positive().default(1),
  inputs: z.record(z.string(), WarmupInputSchema).default({}),
  iterations: z.int().positive().max(100).default(1),
});

/** The highest CPU number Linux can have (NR_CPUS is at most 8192). */
const MAX_CPU = 8191;

export const ModelConfigSchema = z.strictObject({
  name: ModelName,
  backend: z.enum(['onnx', 'tfjs']).default('onnx'),
  max_batch_size: z.int().nonnegative().max(1 << 16).default(0),
  inputs: z.array(TensorSpecSchema).default([]),
  outputs: z.array(OutputSpecSchema).default([]),
  version_policy: VersionPolicySchema.default({ latest: { num_versions: 1 } }),
  instance_count: z.int().positive().max(64).default(1),
  /**
   * `worker`: each instance runs in its own thread, so inference never blocks request handling
   * (onnxruntime-node computes on the calling thread). `inline`: on the main thread, no message hop.
   * `auto` (default): `inline` when the model's largest batch computes in under 1 ms, measured at load
   * (src/lifecycle/instance-kind.ts: one instance, numeric inputs of known shape, no instance_cpus),
   * else `worker`.
   */
  instance_kind: z.enum(['auto', 'worker', 'inline']).default('auto'),
  /**
   * CPUs every instance thread of this model (and the threads its runtime starts) may run on, as a
   * Linux CPU list ("1", "2-3", "0,4-7"); unset = wherever the kernel puts them. Give compute its
   * own cores and leave the server's event loop the rest (start the server under `taskset`).
   */
  instance_cpus: z.string().regex(/^\d+(-\d+)?(,\d+(-\d+)?)*$/, 'a CPU list such as "1", "2-3" or "0,4-7"').refine(ascendingRanges, 'each range must run from the lower CPU to the higher').refine((list) => list.split(/[,-]/).every((cpu) => Number(cpu) <= MAX_CPU), `CPUs are numbered 0 to ${MAX_CPU}`).optional(),
  /** The model file inside each version directory. */
  default_model_filename: z.string().regex(/^[A-Za-z0-9_.-]+$/).refine((s) => s !== '..' && s !== '.').default('model.onnx'),
  onnx: OnnxOptionsSchema.default(OnnxOptionsSchema.parse({})),
  tfjs: TfjsOptionsSchema.default(TfjsOptionsSchema.parse({})),
  /** Text in, vectors out: tokenizer, pooling and normalisation run as part of the model. */
  text_embedding: TextEmbeddingSchema.optional(),
  /** Image in: decode, resize and scale run as part of the model (not together with text_embedding). */
  image: ImageProcessingSchema.optional(),
  warmup: WarmupSchema.default(WarmupSchema.parse({})),
  dynamic_batching: DynamicBatchingSchema.optional(),
  parameters: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  /** How requests that name no version are routed (split, shadow, fallback, cascade); the admin API can replace it. */
  traffic: TrafficPolicySchema.optional(),
}).superRefine((config, ctx) => {
  if (config.instance_cpus !== undefined && config.instance_kind === 'inline') {
    ctx.addIssue({ code: 'custom', path: ['instance_cpus'], message: "binds instance threads; with instance_kind 'inline' the model runs on the server's own thread (bind the server with taskset instead)" });
  }
});

function ascendingRanges(list: string): boolean {
  return list.split(',').every((part) => {
    const [from, to] = part.split('-').map(Number);
    return to === undefined || from! <= to;
  });
}

/** A config as written on disk (before completion from the model file). */
export type ModelConfigInput = z.input<typeof ModelConfigSchema>;
export type ModelConfig = z.infer<typeof ModelConfigSchema>;
