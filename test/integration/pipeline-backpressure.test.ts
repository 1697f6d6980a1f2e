/**
 * Backpressure: producers submit far faster than the worker can process. Submissions wait for room
 * (TS API), so the queue's unfinished runs never exceed maxQueued, the worker never holds more than its
 * concurrency, and the producers' memory stays flat however many runs go through.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { definePipeline, PipelineRegistry } from '../../src/pipeline/pipeline-registry.js';
import { PipelineService } from '../../src/pipeline/pipeline-service.js';
import { PipelineWorker } from '../../src/pipeline/pipeline-worker.js';
import { unfinished, type QueueBackend } from '../../src/queue/queue-backend.js';
import { RedisQueueBackend } from '../../src/queue/redis/redis-queue-backend.js';
import { SqliteQueueBackend } from '../../src/queue/sqlite/sqlite-queue-backend.js';
import { deleteKeys, REDIS_URL } from '../helpers/redis-cleanup.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MAX_QUEUED = 40;
const CONCURRENCY = 3;
const PRODUCERS = 4;
const PER_PRODUCER = 300;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

for (const kind of ['sqlite', 'redis'] as const) {
  test(`${kind} pipeline backpressure: fast producers never push the queue past maxQueued and memory stays flat`, { timeout: 120_000 }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'mp-bp-'));
    const prefix = `mp-test-${randomUUID()}`;
    // Each producer gets its own backend (own connection), as separate producer processes would.
    const backends: QueueBackend[] = [];
    const open = (): QueueBackend => {
      const b = kind === 'sqlite' ? new SqliteQueueBackend({ dataDir: dir }) : new RedisQueueBackend({ url: REDIS_URL, prefix });
      backends.push(b);
      return b;
    };
    const backend = open();
    const registry = new PipelineRegistry();
    registry.addBuilt(definePipeline('bp', { maxQueued: MAX_QUEUED, leaseMs: 2000 })
      .step('work', async (x) => {
        await sleep(15);
        return x;
      })
      .build());
    const producers = Array.from({ length: PRODUCERS }, () => new PipelineService({ backend: open(), registry }));
    const worker = new PipelineWorker({ backend, registry, concurrency: CONCURRENCY, idlePollMs: 5 });
    // One hook, in order: nothing may write keys after they are deleted.
    t.after(async () => {
      await worker.stop({ drain: false });
      await Promise.all(backends.map((b) => b.close()));
      if (kind === 'sqlite') rmSync(dir, { recursive: true, force: true });
      else await deleteKeys(prefix);
    });

    let maxUnfinished = 0;
    let maxActive = 0;
    let maxHeld = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const d = await backend.depth('bp');
        maxUnfinished = Math.max(maxUnfinished, unfinished(d));
        maxActive = Math.max(maxActive, d.active);
        maxHeld = Math.max(maxHeld, worker.inFlight);
        await sleep(5);
      }
    })();

    let submitted = 0;
    const heap: number[] = [];
    const producer = async (p: number): Promise<void> => {
      for (let i = 0; i < PER_PRODUCER; i++) {
        await producers[p]!.submit('bp', { p, i, pad: 'x'.repeat(200) }, { waitTimeoutMs: 60_000 });
        submitted++;
        if (p === 0 && i % 75 === 74) heap.push(heapAfterGc());
      }
    };
    worker.start();
    await Promise.all(Array.from({ length: PRODUCERS }, (_, p) => producer(p)));
    const fullAtEnd = unfinished(await backend.depth('bp'));
    while ((await backend.depth('bp')).completed < PRODUCERS * PER_PRODUCER) await sleep(20);
    sampling = false;
    await sampler;

    assert.equal(submitted, PRODUCERS * PER_PRODUCER);
    assert.ok(fullAtEnd > CONCURRENCY, `producers outran the worker (unfinished at the end of submission: ${fullAtEnd})`);
    assert.ok(maxUnfinished <= MAX_QUEUED, `unfinished runs peaked at ${maxUnfinished} > ${MAX_QUEUED}`);
    assert.ok(maxUnfinished >= MAX_QUEUED - PRODUCERS, `the queue did fill up (peak ${maxUnfinished})`);
    assert.ok(maxHeld <= CONCURRENCY && maxActive <= CONCURRENCY, `the worker held ${maxHeld} runs, ${maxActive} active; bound ${CONCURRENCY}`);
    const growthMb = (Math.max(...heap) - heap[0]!) / 2 ** 20;
    t.diagnostic(`heap samples (MB): ${heap.map((h) => (h / 2 ** 20).toFixed(1)).join(', ')}; peak unfinished ${maxUnfinished}`);
    assert.ok(growthMb < 16, `heap grew ${growthMb.toFixed(1)} MB while ${PRODUCERS * PER_PRODUCER} runs went through`);
  });
}
