import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StepLimiter, type LimiterClock } from '../../../src/pipeline/step-limiter.js';

/** A manual clock: `sleep` records the request and advances time at once. */
function manualClock(): LimiterClock & { t: number; sleeps: number[] } {
  const c = {
    t: 0,
    sleeps: [] as number[],
    now: () => c.t,
    sleep: async (ms: number) => {
      c.sleeps.push(ms);
      c.t += ms;
    },
  };
  return c;
}

test('step limiter: a rate limit lets a one-second burst through, then spaces starts by 1/rate', async () => {
  const clock = manualClock();
  const limiter = new StepLimiter(Infinity, 4, clock);
  const starts: number[] = [];
  for (let i = 0; i < 8; i++) {
    const release = await limiter.acquire();
    starts.push(clock.t);
    release();
  }
  assert.deepEqual(starts, [0, 0, 0, 0, 250, 500, 750, 1000]);
});

test('step limiter: concurrency holds callers until a slot is released, in arrival order; aborted waiters leave', async () => {
  const limiter = new StepLimiter(2);
  const r1 = await limiter.acquire();
  await limiter.acquire();
  const order: string[] = [];
  const aborter = new AbortController();
  const a = limiter.acquire(aborter.signal).then(() => order.push('a'), () => order.push('a aborted'));
  const b = limiter.acquire().then((release) => {
    order.push('b');
    return release;
  });
  assert.equal(limiter.running, 2);
  aborter.abort(new Error('gone'));
  await a;
  r1();
  (await b)();
  assert.deepEqual(order, ['a aborted', 'b']);
  assert.equal(limiter.running, 1);
});
