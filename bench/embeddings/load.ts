/**
 * Load generator for /v1/embeddings, in its own process: `concurrency` closed-loop clients, each
 * sending one input per request, drawn from `texts` (with `repeatRate`, from a small hot set instead).
 * Argument: JSON LoadSpec (texts in a file). Prints one JSON line with requests/s, latency percentiles
 * and the generator's own CPU ms per request.
 *
 * It must be as cheap as possible: on a 2-core machine every CPU millisecond it spends is taken from
 * the server it measures. `fetch` cost 1.9 ms of CPU per request here (undici's streams, Headers,
 * the Response object); this client writes request bytes prepared before the clock starts on
 * keep-alive sockets (raw-http-client.ts) and reads only the status line and Content-Length.
 */
import { readFileSync } from 'node:fs';
import { percentile, steadyRampMs, steadyRatePerSecond } from '../lib/stats.js';
import { Prng } from '../../test/helpers/prng.js';
import { RawHttpConnection, postRequest } from '../lib/raw-http-client.js';

/** `textsFile` holds { texts, hot } as JSON (too large for a command line). */
interface LoadSpec { url: string; model: string; textsFile: string; repeatRate: number; concurrency: number; seconds: number; seed: number }

const spec = JSON.parse(process.argv[2]!) as LoadSpec;
const { texts, hot } = JSON.parse(readFileSync(spec.textsFile, 'utf8')) as { texts: string[]; hot: string[] };
const url = new URL(spec.url);
const encode = (text: string) => postRequest(url.host, '/v1/embeddings', JSON.stringify({ model: spec.model, input: text, encoding_format: 'base64' }));
const textRequests = texts.map(encode);
const hotRequests = hot.map(encode);
const rng = new Prng(spec.seed);
const latencies: number[] = [];
/** When each 200 arrived, ms after the start, for the steady-state rate. */
const completedMs: number[] = [];
let ok = 0;
let failed = 0;
let next = 0;
let checked = false;

async function client(): Promise<void> {
  const conn = await RawHttpConnection.open(url.hostname, Number(url.port));
  try {
    while (performance.now() < deadline) {
      const request = rng.chance(spec.repeatRate) ? rng.pick(hotRequests) : textRequests[next++ % textRequests.length]!;
      const t0 = performance.now();
      const res = await conn.send(request);
      if (res.status === 200) {
        ok++;
        const now = performance.now();
        latencies.push(now - t0);
        completedMs.push(now - started);
        if (!checked) {
          // Once per run, make sure the answers are embeddings (a misrouted bench would measure 404s).
          checked = true;
          const body = JSON.parse(res.body.toString('utf8')) as { data?: Array<{ embedding?: unknown }> };
          if (typeof body.data?.[0]?.embedding !== 'string') throw new Error(`unexpected answer: ${res.body.toString('utf8').slice(0, 200)}`);
        }
      } else failed++;
    }
  } finally {
    conn.close();
  }
}

const cpu0 = process.cpuUsage();
const started = performance.now();
const deadline = started + spec.seconds * 1000;
await Promise.all(Array.from({ length: spec.concurrency }, client));
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpu0);
latencies.sort((a, b) => a - b);
console.log(JSON.stringify({
  ok, failed, seconds, wallPerSecond: ok / seconds,
  // The closed loop's steady state: connection set-up, the first partial batches and the drain after
  // the deadline are not what the server sustains (bench/lib/stats.ts steadyRatePerSecond).
  perSecond: steadyRatePerSecond(completedMs, steadyRampMs(spec.seconds), spec.seconds * 1000), p50Ms: percentile(latencies, 50), p95Ms: percentile(latencies, 95),
  cpuMsPerRequest: (cpu.user + cpu.system) / 1000 / Math.max(1, ok + failed),
}));
