import { randomUUID } from 'node:crypto';
import { RedisQueueBackend } from '../../src/queue/redis/redis-queue-backend.js';
import { deleteKeys, REDIS_URL } from '../helpers/redis-cleanup.js';
import { runQueueConformance } from './queue-backend.case.js';

// Real Redis; node:test runs the tests of one file one after another, and each gets its own key prefix.
runQueueConformance('redis', async () => {
  const prefix = `mp-test-${randomUUID()}`;
  const backend = new RedisQueueBackend({ url: REDIS_URL, prefix });
  return {
    backend,
    async cleanup() {
      await backend.close();
      await deleteKeys(prefix);
    },
  };
});
