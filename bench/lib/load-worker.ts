/**
 * The load generator, run as its own process so it never shares an event loop with the server.
 * Input: one JSON argument (LoadSpec). Output: one JSON line (LoadResult) on stdout.
 * Closed loop by default (each connection sends its next request when the last one answers);
 * with `ratePerSecond` the total rate is capped, which with enough connections is an open loop.
 */
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';

export interface LoadSpec {
  url: string;
  bodyFile: string;
  headers: Record<string, string>;
  connections: number;
  durationSeconds: number;
  ratePerSecond?: number;
  timeoutSeconds?: number;
}

export interface LoadResult {
  requests: number;
  ok: number;
  status: Record<string, number>;
  errors: number;
  seconds: number;
  /** Sorted-percentile latencies in ms, for 200s and for refusals (429/503) separately. */
  ok_ms: { p50: number; p95: number; p99: number; max: number };
  refused_ms: { p50: number; p95: number; p99: number; max: number; count: number };
}

function summary(values: number[]): { p50: number; p95: number; p99: number; max: number } {
  values.sort((a, b) => a - b);
  const at = (p: number) => (values.length === 0 ? NaN : values[Math.min(values.length - 1, Math.ceil((p / 100) * values.length) - 1)]!);
  return { p50: at(50), p95: at(95), p99: at(99), max: values.length ? values[values.length - 1]! : NaN };
}

const spec = JSON.parse(process.argv[2]!) as LoadSpec;
const body = readFileSync(spec.bodyFile);
const okLatencies: number[] = [];
const refusedLatencies: number[] = [];
const status: Record<string, number> = {};
const started = process.hrtime.bigint();
const instance = autocannon({
  url: spec.url,
  method: 'POST',
  headers: spec.headers,
  body,
  connections: spec.connections,
  duration: spec.durationSeconds,
  timeout: spec.timeoutSeconds ?? 30,
  ...(spec.ratePerSecond ? { overallRate: spec.ratePerSecond } : {}),
}, (err, result) => {
  if (err) throw err;
  report(result);
});
instance.on('response', (_client, statusCode, _bytes, ms) => {
  status[statusCode] = (status[statusCode] ?? 0) + 1;
  if (statusCode === 200) okLatencies.push(ms);
  else if (statusCode === 429 || statusCode === 503) refusedLatencies.push(ms);
});
function report(result: { errors: number; timeouts: number }): void {
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const out: LoadResult = {
    requests: okLatencies.length + refusedLatencies.length,
    ok: okLatencies.length,
    status,
    errors: result.errors + result.timeouts,
    seconds,
    ok_ms: summary(okLatencies),
    refused_ms: { ...summary(refusedLatencies), count: refusedLatencies.length },
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
