/**
 * One throughput scenario, run in a fresh process by bench/pipeline/run.ts; prints one JSON line.
 * Method for every scenario: submit N jobs/runs one call at a time (timed: submit/s), then start one
 * in-process worker with concurrency C and time until the queue reports N completed (timed: process/s).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { definePipeline, PipelineRegistry } from '../../src/pipeline/pipeline-registry.js';
import { PipelineService } from '../../src/pipeline/pipeline-service.js';
import { PipelineWorker } from '../../src/pipeline/pipeline-worker.js';
import type { QueueBackend } from '../../src/queue/queue-backend.js';
import { RedisQueueBackend } from '../../src/queue/redis/redis-queue-backend.js';
import { SqliteQueueBackend } from '../../src/queue/sqlite/sqlite-queue-backend.js';

const [scenario = 'bullmq-raw', nArg = '2000', cArg = '16'] = process.argv.slice(2);
const N = Number(nArg);
const C = Number(cArg);
const REDIS_URL = process.env.MP_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function deleteKeys(prefix: string): Promise<void> {
  const r = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await r.unlink(...keys);
  } while (cursor !== '0');
  r.disconnect();
}

async function timeUntil(done: () => Promise<boolean>): Promise<number> {
  const t0 = performance.now();
  while (!(await done())) await sleep(10);
  return (performance.now() - t0) / 1000;
}

async function rawBullmq(): Promise<{ submitS: number; processS: number }> {
  const prefix = `mp-bench-${randomUUID()}`;
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('raw', { connection, prefix });
  try {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) await queue.add('job', { i }, { removeOnComplete: false, removeOnFail: false });
    const submitS = (performance.now() - t0) / 1000;
    let worker: Worker | null = null;
    const processS = await (async () => {
      const t1 = performance.now();
      worker = new Worker('raw', async () => null, { connection, prefix, concurrency: C });
      while ((await queue.getJobCounts('completed')).completed! < N) await sleep(10);
      return (performance.now() - t1) / 1000;
    })();
    await (worker as Worker | null)?.close();
    return { submitS, processS };
  } finally {
    await queue.close();
    connection.disconnect();
    await deleteKeys(prefix);
  }
}

async function modelplane(kind: 'redis' | 'sqlite', steps: 1 | 3): Promise<{ submitS: number; processS: number }> {
  const prefix = `mp-bench-${randomUUID()}`;
  const dir = mkdtempSync(join(tmpdir(), 'mp-bench-'));
  const backend: QueueBackend = kind === 'redis' ? new RedisQueueBackend({ url: REDIS_URL, prefix }) : new SqliteQueueBackend({ dataDir: dir });
  const b = definePipeline('bench', { maxQueued: N * 2, leaseMs: 30_000 });
  b.step('s1', (x) => x);
  if (steps === 3) b.step('s2', (x) => (x as number) + 1).step('s3', (x) => (x as number) * 2);
  const registry = new PipelineRegistry();
  registry.addBuilt(b.build());
  const service = new PipelineService({ backend, registry });
  const worker = new PipelineWorker({ backend, registry, concurrency: C, idlePollMs: 5 });
  try {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) await service.submit('bench', i);
    const submitS = (performance.now() - t0) / 1000;
    worker.start();
    const processS = await timeUntil(async () => (await backend.depth('bench')).completed >= N);
    return { submitS, processS };
  } finally {
    await worker.stop({ drain: false });
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
    if (kind === 'redis') await deleteKeys(prefix);
  }
}

const run = {
  'bullmq-raw': rawBullmq,
  'redis-noop': () => modelplane('redis', 1),
  'redis-3step': () => modelplane('redis', 3),
  'sqlite-noop': () => modelplane('sqlite', 1),
  'sqlite-3step': () => modelplane('sqlite', 3),
}[scenario];
if (!run) throw new Error(`unknown scenario '${scenario}'`);
const r = await run();
process.stdout.write(`${JSON.stringify({ scenario, n: N, concurrency: C, submitPerS: N / r.submitS, processPerS: N / r.processS })}\n`);
