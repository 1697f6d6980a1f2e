import { RedisQueueBackend } from './redis/redis-queue-backend.js';
import { SqliteQueueBackend } from './sqlite/sqlite-queue-backend.js';
import type { QueueBackend } from './queue-backend.js';

export interface BackendChoice {
  /** Embedded mode: the directory holding queue.db. Used when `redisUrl` is not set. */
  readonly dataDir?: string;
  /** Distributed mode: BullMQ on this Redis. */
  readonly redisUrl?: string;
  readonly redisPrefix?: string;
  readonly maxStalls?: number;
}

/** Redis when a URL is given, else SQLite in `dataDir` (default `./.data`): zero servers by default. */
export function openQueueBackend(choice: BackendChoice): QueueBackend {
  if (choice.redisUrl) {
    return new RedisQueueBackend({ url: choice.redisUrl, prefix: choice.redisPrefix, maxStalls: choice.maxStalls });
  }
  return new SqliteQueueBackend({ dataDir: choice.dataDir ?? './.data', maxStalls: choice.maxStalls });
}
