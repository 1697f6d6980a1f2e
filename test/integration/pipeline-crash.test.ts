/**
 * Crash test: worker processes are SIGKILLed at random moments and restarted while 1,000 runs go through.
 * Every run must complete, none may be lost, and the idempotent sink keyed by (run, step) must hold exactly
 * one effect per run and step, with the value the run's own input implies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChildProcess } from 'node:child_process';
import Database from 'better-sqlite3';
import { loadPipelines } from '../../src/pipeline/load-pipelines.js';
import { PipelineService } from '../../src/pipeline/pipeline-service.js';
import { openQueueBackend } from '../../src/queue/open-backend.js';
import { deleteKeys, REDIS_URL } from '../helpers/redis-cleanup.js';
import { exited, spawnWorker } from '../helpers/worker-process.js';

const FIXTURE = new URL('./fixtures/crash-pipelines.ts', import.meta.url).pathname;
const RUNS = Number(process.env.MP_CRASH_RUNS ?? 1000);
const WORKERS = 3;
const MIN_KILLS = 3;
const MAX_KILLS = 8;

for (const kind of ['sqlite', 'redis'] as const) {
  test(`${kind} pipeline crash: ${RUNS} runs survive random SIGKILLs of ${WORKERS} worker processes, each effect recorded once`, { timeout: 120_000 }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'mp-crash-'));
    const prefix = `mp-test-${randomUUID()}`;
    const sinkPath = join(dir, 'sink.db');
    const backendArgs = kind === 'sqlite' ? ['--data-dir', dir] : ['--redis', REDIS_URL, '--redis-prefix', prefix];
    const backend = openQueueBackend(kind === 'sqlite' ? { dataDir: dir } : { redisUrl: REDIS_URL, redisPrefix: prefix });
    const { registry } = await loadPipelines(FIXTURE);
    const service = new PipelineService({ backend, registry });

    const ids = new Map<string, number>();
    for (let i = 0; i < RUNS; i++) ids.set((await service.submit('crash', i, { idempotencyKey: `run-${i}` })).runId, i);
    assert.equal(ids.size, RUNS);

    const start = (): ChildProcess => spawnWorker(
      ['--pipelines', FIXTURE, ...backendArgs, '--concurrency', '2', '--max-stalls', '1000'],
      { MP_CRASH_SINK: sinkPath, MP_CRASH_LEASE_MS: '500' },
    );
    const workers: ChildProcess[] = Array.from({ length: WORKERS }, start);
    // One hook, in order: no process may write after the data is deleted.
    t.after(async () => {
      for (const w of workers) w.kill('SIGKILL');
      await Promise.all(workers.map(exited));
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
      if (kind === 'redis') await deleteKeys(prefix);
    });

    // Kill a random worker every 0.2-0.7 s while runs remain (up to MAX_KILLS), restarting it at once.
    // A restart takes about a second (tsx), so killing faster than that would only starve the queue.
    let kills = 0;
    let completed = 0;
    while (completed < RUNS) {
      await sleep(200 + Math.floor(Math.random() * 500));
      const d = await backend.depth('crash');
      completed = d.completed;
      assert.equal(d.dead, 0, 'no run is dead-lettered');
      if (completed > 0 && completed < RUNS && kills < MAX_KILLS) {
        const victim = Math.floor(Math.random() * workers.length);
        const w = workers[victim]!;
        w.kill('SIGKILL');
        await exited(w);
        kills++;
        workers[victim] = start();
      }
    }
    t.diagnostic(`workers killed: ${kills}`);
    assert.ok(kills >= MIN_KILLS, `the test only means something if workers died mid-stream (killed ${kills})`);

    // Graceful stop of the survivors.
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map(exited));
    const depth = await backend.depth('crash');
    assert.equal(depth.completed, RUNS, 'every run completed');
    assert.equal(depth.waiting + depth.delayed + depth.active + depth.dead, 0, 'nothing left behind');

    const sink = new Database(sinkPath, { readonly: true });
    t.after(() => sink.close());
    const effects = sink.prepare('SELECT run_id, step, value FROM effects').all() as { run_id: string; step: string; value: number }[];
    assert.equal(effects.length, RUNS * 2, 'one effect per run and recording step');
    for (const e of effects) {
      const i = ids.get(e.run_id);
      assert.ok(i !== undefined, `effect for an unknown run ${e.run_id}`);
      assert.equal(e.value, e.step === 'record-a' ? i * i : i * i + 1, `run ${i} step ${e.step}`);
    }
    const attempts = (sink.prepare('SELECT COUNT(*) AS n FROM attempts').get() as { n: number }).n;
    assert.ok(attempts >= RUNS * 2);
    t.diagnostic(`side-effect attempts: ${attempts} for ${RUNS * 2} effects (${attempts - RUNS * 2} re-executions absorbed by the idempotent sink)`);

    for (const [id, i] of [...ids].slice(0, 50)) {
      const s = await service.status('crash', id);
      assert.deepEqual(s.result, { 'record-b': i * i + 1 });
    }
    await backend.close();
  });
}
