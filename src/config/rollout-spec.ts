import { z } from 'zod';

/**
 * A canary rollout of `candidate` against `incumbent`: the candidate's share of traffic advances
 * through `steps` (percent) once each step has seen `step_requests` candidate requests and lasted
 * `step_seconds`, all within the SLO; any breach sends it to 0 % at once.
 */
export const RolloutSpecSchema = z.strictObject({
  candidate: z.int().positive(),
  /** Default: the highest READY version other than the candidate. */
  incumbent: z.int().positive().optional(),
  steps: z
    .array(z.number().gt(0).max(100))
    .min(1)
    .max(20)
    .default([5, 25, 50, 100])
    .refine((s) => s.every((p, i) => i === 0 || p > s[i - 1]!), 'must increase'),
  /** Candidate requests a step needs before it may advance. */
  step_requests: z.int().positive().max(10_000_000).default(100),
  /** Seconds a step lasts at least before it may advance. */
  step_seconds: z.number().nonnegative().max(7 * 86400).default(60),
  slo: z
    .strictObject({
      /** Share of candidate requests that may fail (0-1). */
      max_error_rate: z.number().min(0).max(1).default(0.01),
      /** 99th-percentile latency bound of candidate requests, ms. */
      max_p99_ms: z.number().positive().optional(),
      /** Minimum share of mirrored requests where the candidate agrees with the incumbent (needs `compare`). */
      min_agreement: z.number().min(0).max(1).optional(),
      /** Requests (or comparisons) a step needs before the SLO is judged, so one early error is not 100 %. */
      min_samples: z.int().positive().default(20),
    })
    .default({ max_error_rate: 0.01, min_samples: 20 }),
  /** Mirror incumbent answers to the candidate and compare (for `slo.min_agreement`). */
  compare: z
    .strictObject({
      output: z.string().min(1),
      compare: z.enum(['top1', 'cosine']).default('top1'),
      cosine_threshold: z.number().min(-1).max(1).default(0.99),
      percent: z.number().min(0).max(100).default(100),
    })
    .optional(),
}).refine((s) => s.slo.min_agreement === undefined || s.compare !== undefined, { message: 'slo.min_agreement needs a compare section', path: ['compare'] });
export type RolloutSpec = z.infer<typeof RolloutSpecSchema>;
