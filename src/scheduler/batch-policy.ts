import type { ModelConfig, QueuePolicy } from '../config/model-config.js';

export interface LevelPolicy {
  readonly maxQueueSize: number;
  readonly defaultTimeoutUs: number;
  readonly allowTimeoutOverride: boolean;
}

/** The scheduler's view of a model config, computed once at load. */
export interface BatchPolicy {
  /** 0 = the model has no batch dimension: every request is its own batch. */
  readonly maxBatchSize: number;
  /** False without a dynamic_batching block: requests run one at a time per instance (Triton's default scheduler). */
  readonly dynamic: boolean;
  readonly preferredBatchSizes: readonly number[];
  readonly maxQueueDelayUs: number;
  readonly adaptiveQueueDelay: boolean;
  /** Index 0 is priority level 1 (the highest). */
  readonly levels: readonly LevelPolicy[];
  readonly defaultLevelIndex: number;
  readonly delayUntilQueued: number;
  /** Tokens one batch may hold (sum of its requests' tokens); 0 = no budget. */
  readonly maxBatchTokens: number;
}

const DEFAULT_QUEUE: QueuePolicy = { max_queue_size: 1024, default_timeout_us: 0, allow_timeout_override: false, timeout_action: 'reject' };

function level(q: QueuePolicy): LevelPolicy {
  return { maxQueueSize: q.max_queue_size, defaultTimeoutUs: q.default_timeout_us, allowTimeoutOverride: q.allow_timeout_override };
}

export function batchPolicy(config: ModelConfig): BatchPolicy {
  const db = config.dynamic_batching;
  if (!db) {
    return {
      maxBatchSize: config.max_batch_size, dynamic: false, preferredBatchSizes: [], maxQueueDelayUs: 0, adaptiveQueueDelay: false,
      levels: [level(DEFAULT_QUEUE)], defaultLevelIndex: 0, delayUntilQueued: 0, maxBatchTokens: 0,
    };
  }
  const count = Math.max(1, db.priority_levels);
  const levels: LevelPolicy[] = [];
  for (let i = 1; i <= count; i++) levels.push(level(db.priority_queue_policy[String(i)] ?? db.default_queue_policy));
  // Unset, requests without a priority go to the lowest level, so any explicit priority can overtake them.
  const defaultLevel = db.default_priority_level > 0 ? db.default_priority_level : count;
  return {
    maxBatchSize: config.max_batch_size,
    dynamic: config.max_batch_size > 0,
    preferredBatchSizes: [...db.preferred_batch_sizes].filter((s) => s <= config.max_batch_size).sort((a, b) => a - b),
    maxQueueDelayUs: db.max_queue_delay_us,
    adaptiveQueueDelay: db.adaptive_queue_delay,
    levels,
    defaultLevelIndex: Math.min(count, defaultLevel) - 1,
    delayUntilQueued: db.delay_until_queued,
    maxBatchTokens: db.max_batch_tokens,
  };
}
