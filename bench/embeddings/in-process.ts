/**
 * Baseline: USE-lite called in-process on TF.js (wasm), no server, at several batch sizes.
 * Argument: JSON { batchSizes, seconds, warmup (seconds per batch size, default 2) }. Prints one JSON line: per batch size the texts/s,
 * the median latency of one batch and the CPU ms per text.
 */
import { DirectUse } from '../../scripts/lib/use-direct.js';
import { median } from '../lib/stats.js';
import { sentences } from './sentences.js';

const spec = JSON.parse(process.argv[2] ?? '{}') as { batchSizes?: number[]; seconds?: number; warmup?: number };
const batchSizes = spec.batchSizes ?? [1, 8, 32, 64];
const use = await DirectUse.load();
const pool = sentences(7, 512, 6, 14);
const results: Array<{ batchSize: number; textsPerSecond: number; p50BatchMs: number; cpuMsPerText: number }> = [];
for (const b of batchSizes) {
  // Warm-up by time, as the server gets (V8 tiers TF.js's wasm up while it runs): at least 3 batches and 2 s.
  const warmUntil = performance.now() + (spec.warmup ?? 2) * 1000;
  for (let i = 0; i < 3 || performance.now() < warmUntil; i++) await use.embed(pool.slice(0, b));
  const times: number[] = [];
  let texts = 0;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  let k = 0;
  while (performance.now() - started < (spec.seconds ?? 3) * 1000) {
    const batch = Array.from({ length: b }, () => pool[k++ % pool.length]!);
    const t0 = performance.now();
    await use.embed(batch);
    times.push(performance.now() - t0);
    texts += b;
  }
  const cpu = process.cpuUsage(cpu0);
  // CPU time per text does not depend on how much of the shared machine this process got.
  results.push({ batchSize: b, textsPerSecond: texts / ((performance.now() - started) / 1000), p50BatchMs: median(times), cpuMsPerText: (cpu.user + cpu.system) / 1000 / texts });
}
console.log(JSON.stringify({ results }));
