/**
 * Load generator for /v1/embeddings, in its own process: `concurrency` closed-loop clients, each
 * sending one input per request, drawn from `texts` (with `repeatRate`, from a small hot set instead).
 * Argument: JSON LoadSpec (texts in a file). Prints one JSON line with requests/s and latency percentiles.
 */
import { readFileSync } from 'node:fs';
import { percentile } from '../lib/stats.js';
import { Prng } from '../../test/helpers/prng.js';

/** `textsFile` holds { texts, hot } as JSON (too large for a command line). */
interface LoadSpec { url: string; model: string; textsFile: string; repeatRate: number; concurrency: number; seconds: number; seed: number }

const spec = JSON.parse(process.argv[2]!) as LoadSpec & { texts: string[]; hot: string[] };
Object.assign(spec, JSON.parse(readFileSync(spec.textsFile, 'utf8')) as { texts: string[]; hot: string[] });
const rng = new Prng(spec.seed);
const latencies: number[] = [];
let ok = 0;
let failed = 0;
let next = 0;
const deadline = performance.now() + spec.seconds * 1000;

async function client(): Promise<void> {
  while (performance.now() < deadline) {
    const text = rng.chance(spec.repeatRate) ? rng.pick(spec.hot) : spec.texts[next++ % spec.texts.length]!;
    const t0 = performance.now();
    const res = await fetch(`${spec.url}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: spec.model, input: text, encoding_format: 'base64' }),
    });
    await res.arrayBuffer();
    if (res.status === 200) {
      ok++;
      latencies.push(performance.now() - t0);
    } else failed++;
  }
}

const started = performance.now();
await Promise.all(Array.from({ length: spec.concurrency }, client));
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
console.log(JSON.stringify({ ok, failed, seconds, perSecond: ok / seconds, p50Ms: percentile(latencies, 50), p95Ms: percentile(latencies, 95) }));
