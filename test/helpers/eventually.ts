import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `probe` until it returns a value other than undefined/null/false, or gives up after `tries`.
 * Tests wait on a condition this way instead of asserting how long something took.
 */
export async function eventually<T>(probe: () => Promise<T | null | undefined | false>, what: string, tries = 200, intervalMs = 50): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await probe();
    if (v !== null && v !== undefined && v !== false) return v;
    await sleep(intervalMs);
  }
  throw new Error(`gave up waiting for ${what}`);
}
