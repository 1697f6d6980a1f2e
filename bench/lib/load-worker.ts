/**
 * The load generator, run as its own process so it never shares an event loop with the server.
 * Input: one JSON argument (LoadSpec). Output: one JSON line (LoadResult) on stdout.
 * Closed loop by default (each connection sends its next request when the last one answers: raw
 * keep-alive sockets, bench/lib/closed-loop.ts, or autocannon with `client: 'autocannon'`). With `ratePerSecond`, a true open loop (bench/lib/open-loop.ts): arrivals spread evenly
 * over time whatever the server does. autocannon's own rate limit is not one: it lets every
 * connection send its share at the start of each second, so the server sees one burst per second.
 */
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
import { runClosedLoop } from './closed-loop.js';
import { runOpenLoop } from './open-loop.js';
import { steadyRampMs, steadyRatePerSecond } from './stats.js';

export interface LoadSpec {
  url: string;
  bodyFile: string;
  headers: Record<string, string>;
  connections: number;
  durationSeconds: number;
  ratePerSecond?: number;
  timeoutSeconds?: number;
  /** Closed loop only: the raw keep-alive client (default, bench/lib/closed-loop.ts) or autocannon. */
  client?: 'raw' | 'autocannon';
}

export interface LoadResult {
  requests: number;
  ok: number;
  status: Record<string, number>;
  errors: number;
  seconds: number;
  /**
   * Closed loop: 200s per second in the steady state (bench/lib/stats.ts steadyRatePerSecond, after a
   * ramp of min(0.5 s, a quarter of the run) from the first answer); `ok / seconds` is the whole run,
   * connection set-up and the requests cut off at the end included.
   */
  steady_ok_per_second?: number;
  /** Sorted-percentile latencies in ms, for 200s and for refusals (429/503) separately. */
  ok_ms: { p50: number; p95: number; p99: number; max: number };
  refused_ms: { p50: number; p95: number; p99: number; max: number; count: number };
  /** Open loop only: refusals timed from their actual send (refused_ms runs from the schedule). */
  refused_from_send_ms?: { p50: number; p99: number; max: number };
  /** Open loop only: 503s of requests admitted and then timed out in the queue (not in refused_ms). */
  expired_ms?: { p50: number; p99: number; max: number; count: number };
  /** Open loop only: how late the generator sent requests against their schedule (its own lag, ms). */
  send_lag_ms?: { p50: number; p99: number; max: number };
}

function summary(values: number[]): { p50: number; p95: number; p99: number; max: number } {
  values.sort((a, b) => a - b);
  const at = (p: number) => (values.length === 0 ? NaN : values[Math.min(values.length - 1, Math.ceil((p / 100) * values.length) - 1)]!);
  return { p50: at(50), p95: at(95), p99: at(99), max: values.length ? values[values.length - 1]! : NaN };
}

const spec = JSON.parse(process.argv[2]!) as LoadSpec;
const body = readFileSync(spec.bodyFile);
if (spec.ratePerSecond) {
  const result = await runOpenLoop({ ...spec, ratePerSecond: spec.ratePerSecond, body });
  const lag = summary(result.sendLagMs);
  const expired = summary(result.expiredMs);
  const fromSend = summary(result.refusedFromSendMs);
  const out: LoadResult = {
    requests: result.okMs.length + result.refusedMs.length + result.expiredMs.length,
    ok: result.okMs.length,
    status: result.status,
    errors: result.errors,
    seconds: result.seconds,
    ok_ms: summary(result.okMs),
    refused_ms: { ...summary(result.refusedMs), count: result.refusedMs.length },
    refused_from_send_ms: { p50: fromSend.p50, p99: fromSend.p99, max: fromSend.max },
    expired_ms: { p50: expired.p50, p99: expired.p99, max: expired.max, count: result.expiredMs.length },
    send_lag_ms: { p50: lag.p50, p99: lag.p99, max: lag.max },
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
  process.exit(0);
}
/** A closed loop's result line, whichever client ran it; `untilMs` is when its clients stopped sending, if known. */
function closedLoopResult(okMs: number[], refusedMs: number[], okCompletedMs: number[], status: Record<string, number>, errors: number, seconds: number, untilMs?: number): LoadResult {
  return {
    requests: okMs.length + refusedMs.length,
    ok: okMs.length,
    status,
    errors,
    seconds,
    steady_ok_per_second: steadyRatePerSecond(okCompletedMs, steadyRampMs(spec.durationSeconds), untilMs),
    ok_ms: summary(okMs),
    refused_ms: { ...summary(refusedMs), count: refusedMs.length },
  };
}
if (spec.client !== 'autocannon') {
  const r = await runClosedLoop({ ...spec, body });
  process.stdout.write(`${JSON.stringify(closedLoopResult(r.okMs, r.refusedMs, r.okCompletedMs, r.status, r.errors, r.seconds, r.deadlineMs))}\n`);
  process.exit(0);
}
const okLatencies: number[] = [];
const okCompletedMs: number[] = [];
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
}, (err, result) => {
  if (err) throw err;
  report(result);
});
instance.on('response', (_client, statusCode, _bytes, ms) => {
  status[statusCode] = (status[statusCode] ?? 0) + 1;
  if (statusCode === 200) {
    okLatencies.push(ms);
    okCompletedMs.push(performance.now());
  }
  else if (statusCode === 429 || statusCode === 503) refusedLatencies.push(ms);
});
function report(result: { errors: number; timeouts: number }): void {
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const out = closedLoopResult(okLatencies, refusedLatencies, okCompletedMs, status, result.errors + result.timeouts, seconds);
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
