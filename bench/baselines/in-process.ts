/**
 * Baseline (d): the ceiling — ONNX Runtime called in-process, no HTTP, at each batch size.
 * Warm-up, then several timed runs per batch size; prints one JSON line with medians.
 *   node --import tsx bench/baselines/in-process.ts '{"model":..., "input":..., "itemShape":[...], "batches":[1,2,...], "seconds":3, "runs":3}'
 * `"hugePages": true` = (d'): the session's weights on 2 MiB pages, placed as Modelplane places them
 * (src/runtime/huge-pages.ts), so the serving overhead can be told from what the placement saves.
 * `"idleMs": 1` sleeps that long between runs (timed runs exclude it), as a served model idles between
 * requests at concurrency 1: tells what an idle core costs the next run from what serving adds.
 */
import ort from 'onnxruntime-node';
import { median } from '../lib/stats.js';
import { loadOnHugePages } from '../../src/runtime/huge-pages.js';

interface Spec { model: string; input: string; itemShape: number[]; batches: number[]; seconds: number; runs: number; sampleFile?: string; hugePages?: boolean; idleMs?: number }
const spec = JSON.parse(process.argv[2]!) as Spec;
// The same intra-op thread count as every served configuration (bench/lib/cpu-plan.ts).
const threads = Number(process.env.ORT_INTRA_OP_THREADS ?? 0);
const { value: session } = await loadOnHugePages(spec.hugePages === true, () => ort.InferenceSession.create(spec.model, threads > 0 ? { intraOpNumThreads: threads } : {}));
const itemSize = spec.itemShape.reduce((a, b) => a * b, 1);
const { readFileSync } = await import('node:fs');
const sample = spec.sampleFile ? new Float32Array(readFileSync(spec.sampleFile).buffer.slice(0)) : undefined;

const results: Array<{ batch: number; inferencesPerSecond: number; spreadPercent: number; p50LatencyMs: number }> = [];
for (const batch of spec.batches) {
  const data = new Float32Array(batch * itemSize);
  for (let i = 0; i < data.length; i++) data[i] = sample ? sample[i % sample.length]! : ((i * 7919) % 1000) / 1000;
  const feeds = { [spec.input]: new ort.Tensor('float32', data, [batch, ...spec.itemShape]) };
  const warmUntil = performance.now() + 1000;
  while (performance.now() < warmUntil) await session.run(feeds);
  const rates: number[] = [];
  const latencies: number[] = [];
  for (let r = 0; r < spec.runs; r++) {
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < spec.seconds * 1000) {
      if (spec.idleMs) await new Promise((resolve) => setTimeout(resolve, spec.idleMs));
      const s = performance.now();
      await session.run(feeds);
      latencies.push(performance.now() - s);
      n += batch;
    }
    rates.push(n / ((performance.now() - t0) / 1000));
  }
  const m = median(rates);
  results.push({ batch, inferencesPerSecond: m, spreadPercent: ((Math.max(...rates) - Math.min(...rates)) / m) * 100, p50LatencyMs: median(latencies) });
}
console.log(JSON.stringify({ results }));
