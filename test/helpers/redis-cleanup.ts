import { Redis } from 'ioredis';

export const REDIS_URL = process.env.MP_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Deletes every key under `prefix:` (SCAN, never KEYS). */
export async function deleteKeys(prefix: string): Promise<number> {
  const r = new Redis(REDIS_URL);
  let n = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) n += await r.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
  return n;
}
