import { z } from 'zod';
import { MpError } from '../errors.js';
import { describeIssues } from '../config/zod-issues.js';
import { deepFreeze } from '../config/freeze.js';
import { MAX_PRIORITY } from '../queue/queue-backend.js';

const NAME = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'letters, digits, _ . - (max 128), not starting with a symbol');

export const RetrySchema = z.strictObject({
  maxAttempts: z.int().min(1).max(1000).default(3),
  backoffMs: z.int().nonnegative().default(1000), // before the 2nd attempt; doubles each attempt
  maxBackoffMs: z.int().nonnegative().default(60_000),
  jitter: z.number().min(0).max(1).default(0.5), // fraction the delay may be shortened by
});

const StepRetrySchema = z.strictObject({
  maxAttempts: z.int().min(1).max(100).default(1), // in-process tries of this step before the run attempt fails
  backoffMs: z.int().nonnegative().default(100),
  maxBackoffMs: z.int().nonnegative().default(5_000),
  jitter: z.number().min(0).max(1).default(0.5),
});

/** A step is exactly one of: a registered function (`function`) or a model inference (`model`). */
export const StepSchema = z
  .strictObject({
    name: NAME,
    function: z.string().min(1).optional(),
    model: z.string().min(1).optional(),
    version: z.string().min(1).optional(),
    outputs: z.array(z.string().min(1)).optional(),
    /** Steps whose outputs feed this one. Omitted: the previous step in the list (none for the first). */
    after: z.array(NAME).optional(),
    /** The step returns an array; each element continues through the following steps separately. */
    fanOut: z.boolean().default(false),
    /** Waits for every item of the fan-out it depends on and receives their outputs as an array. */
    join: z.boolean().default(false),
    timeoutMs: z.int().positive().optional(),
    /** Step instances running at once in one worker process. */
    concurrency: z.int().positive().optional(),
    /** Step instances started per second in one worker process (token bucket, burst = 1 s). */
    ratePerSecond: z.number().positive().optional(),
    retry: StepRetrySchema.optional(),
  })
  .superRefine((s, ctx) => {
    if ((s.function === undefined) === (s.model === undefined)) {
      ctx.addIssue({ code: 'custom', message: `step '${s.name}' needs exactly one of 'function' or 'model'` });
    }
    if (s.model === undefined && (s.version !== undefined || s.outputs !== undefined)) {
      ctx.addIssue({ code: 'custom', message: `step '${s.name}': 'version' and 'outputs' apply to model steps only` });
    }
  });

const DAY_MS = 86_400_000;

export const PipelineSchema = z.strictObject({
  name: NAME,
  description: z.string().optional(),
  steps: z.array(StepSchema).min(1),
  /** Backpressure: unfinished runs (waiting, delayed, active) allowed in the queue. */
  maxQueued: z.int().positive().default(10_000),
  retry: RetrySchema.default({ maxAttempts: 3, backoffMs: 1000, maxBackoffMs: 60_000, jitter: 0.5 }),
  /** A worker holding a run must heartbeat within this; after it the run is re-delivered. */
  leaseMs: z.int().min(100).default(30_000),
  defaultPriority: z.int().min(0).max(MAX_PRIORITY).default(100),
  /**
   * How long a finished run stays readable (status, result, its idempotency key) before the workers'
   * maintenance deletes it, by how it ended; null keeps it for ever. Without it the queue only grows.
   */
  keepFinished: z.strictObject({
    completedMs: z.int().min(0).nullable().default(DAY_MS),
    cancelledMs: z.int().min(0).nullable().default(DAY_MS),
    deadMs: z.int().min(0).nullable().default(7 * DAY_MS),
  }).default({ completedMs: DAY_MS, cancelledMs: DAY_MS, deadMs: 7 * DAY_MS }),
});

export const PipelineFileSchema = z.strictObject({
  /** A module (relative to the file) whose exports are the step functions, by name. */
  functions: z.string().optional(),
  pipelines: z.array(PipelineSchema).min(1),
});

export type StepDefinition = Readonly<z.output<typeof StepSchema>>;
export type PipelineDefinition = Readonly<z.output<typeof PipelineSchema>>;
export type PipelineInput = z.input<typeof PipelineSchema>;

/** Parses the JSON/YAML form of one pipeline, naming the field at fault. */
export function parsePipelineDefinition(raw: unknown): PipelineDefinition {
  const r = PipelineSchema.safeParse(raw);
  if (!r.success) throw new MpError('MP_CONFIG_INVALID', `invalid pipeline: ${describeIssues(r.error)}`);
  return deepFreeze(r.data);
}

export function parsePipelineFile(raw: unknown): z.output<typeof PipelineFileSchema> {
  const r = PipelineFileSchema.safeParse(raw);
  if (!r.success) throw new MpError('MP_CONFIG_INVALID', `invalid pipeline file: ${describeIssues(r.error)}`);
  return deepFreeze(r.data);
}
