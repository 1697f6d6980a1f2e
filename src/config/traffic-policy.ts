import { z } from 'zod';
import { ModelName } from './model-names.js';

/** Where a routed request goes: a version of the routed model, or another model (its highest READY version unless `version`). */
export const RouteTargetSchema = z.strictObject({
  model: ModelName.optional(),
  version: z.int().positive().optional(),
});
export type RouteTarget = z.infer<typeof RouteTargetSchema>;

export const SplitSchema = z.strictObject({
  /**
   * Versions of this model (or other models, for an alias) and their weights (any non-negative
   * numbers; they are normalised).
   */
  targets: z
    .array(RouteTargetSchema.extend({ weight: z.number().nonnegative() }).refine((t) => t.model !== undefined || t.version !== undefined, 'needs a version or a model'))
    .min(1),
  /**
   * Sticky: a request carrying a routing key (header `X-Routing-Key` or parameter `routing_key`) always
   * lands on the same target for the same weights. Without a key the pick is random.
   */
  sticky: z.boolean().default(true),
}).refine((s) => s.targets.some((t) => t.weight > 0), { message: 'at least one weight must be > 0', path: ['targets'] });

export const ShadowSchema = z.strictObject({
  target: RouteTargetSchema,
  /** Share of requests mirrored, 0-100 %. */
  percent: z.number().min(0).max(100),
  /** Output compared between primary and candidate. */
  output: z.string().min(1),
  /** `top1`: same arg-max per row (classifiers); `cosine`: cosine similarity ≥ threshold per row (embeddings). */
  compare: z.enum(['top1', 'cosine']).default('top1'),
  cosine_threshold: z.number().min(-1).max(1).default(0.99),
  /** Mirrored requests in flight at most; beyond it a mirror is dropped and counted. */
  max_in_flight: z.int().positive().max(4096).default(64),
});

export const FallbackSchema = z.strictObject({
  /** Deadline of the primary, ms; 0 = none. */
  timeout_ms: z.int().nonnegative().default(0),
  /** Tried in order when the step before fails, times out or refuses (429/503). */
  chain: z.array(RouteTargetSchema.extend({ timeout_ms: z.int().nonnegative().default(0) })).min(1).max(8),
});

export const CascadeSchema = z.strictObject({
  /** Scores output read after each step (e.g. probabilities); escalate while its top score < threshold. */
  output: z.string().min(1),
  threshold: z.number(),
  /** Cheapest first; `cost` in any unit (e.g. ms of compute), for the cost-saved metric. */
  steps: z.array(RouteTargetSchema.extend({ cost: z.number().nonnegative().default(1) })).min(2).max(8),
});

/**
 * A model's traffic policy, applied to requests that name no version. Every part is optional;
 * a cascade replaces the split as the way the primary answer is produced.
 */
export const TrafficPolicySchema = z.strictObject({
  split: SplitSchema.optional(),
  shadow: ShadowSchema.optional(),
  fallback: FallbackSchema.optional(),
  cascade: CascadeSchema.optional(),
});
export type TrafficPolicy = z.infer<typeof TrafficPolicySchema>;

/**
 * An alias is a policy under a name that is no model: every target names a model, and a split or
 * cascade says which answers.
 */
export function isAliasPolicy(p: TrafficPolicy): boolean {
  const targets: RouteTarget[] = [
    ...(p.split?.targets ?? []), ...(p.cascade?.steps ?? []), ...(p.fallback?.chain ?? []), ...(p.shadow ? [p.shadow.target] : []),
  ];
  return (p.split !== undefined || p.cascade !== undefined) && targets.every((t) => t.model !== undefined);
}
export type TrafficPolicyInput = z.input<typeof TrafficPolicySchema>;
