/**
 * Serving benchmark (issue 3). For each model: in-process ONNX Runtime at batch 1..max (d), then
 * Modelplane with dynamic batching (a), Modelplane with batching off (b), the naive fastify server
 * (c) and — for the generated models — a parse-only server (e, the HTTP ceiling), each in its own
 * process, swept over client concurrency with a separate load-generator process; warm-up, several
 * runs, medians. Then an open-loop overload run. Writes docs/bench/results.{md,json} and SVG plots.
 *
 *   npm run bench                       # everything (about 25 minutes on 2 cores)
 *   npm run bench -- --models tiny --concurrency 1,16 --runs 1 --seconds 2   # a quick look
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { OVERLOAD_INSTANCE, prepareModels, requestHeaders, writeRepository, type BenchModel } from './models.js';
import { option } from './lib/cli-option.js';
import { runJsonChild, runLoad, startServerProcess, useCpuPlan, type ServerHandle } from './lib/processes.js';
import { cpuPlan } from './lib/cpu-plan.js';
import { median } from './lib/stats.js';
import { linePanels } from './lib/svg-plot.js';
import type { LoadResult } from './lib/load-worker.js';

const MODELS = option('models', 'tiny,wide,ocr').split(',');
const CONCURRENCY = option('concurrency', '1,4,16,64,256').split(',').map(Number);
const SECONDS = Number(option('seconds', '4'));
const RUNS = Number(option('runs', '3'));
/**
 * Load before a server's first measured point. V8 is still compiling the request path for the first
 * ~10 s under load here: its compiler threads took 0.25 s of every 3 s of the server's one core at
 * concurrency 64 after a 3 s warm-up, none after 12 s (per-thread CPU from /proc).
 */
const WARMUP_SECONDS = Number(option('warmup', '12'));
const OVERLOAD = option('overload', 'wide');
/**
 * The overload test's queue timeout: `auto` = 3 full batches of (d) at the largest batch size (at
 * least 250 ms), so the deadline means the same on a slower machine. Sessions 1-6 used 250 ms fixed,
 * which was 2.9 batches on the machine where a 64-row batch took 87 ms and 1.6 on one where it took 160.
 */
const OVERLOAD_TIMEOUT = option('overload-timeout-ms', 'auto');
if (OVERLOAD_TIMEOUT !== 'auto' && !(Number.isInteger(Number(OVERLOAD_TIMEOUT)) && Number(OVERLOAD_TIMEOUT) > 0)) {
  throw new Error(`--overload-timeout-ms must be 'auto' or a positive whole number of milliseconds, not '${OVERLOAD_TIMEOUT}'`);
}
/** Which served configurations to sweep (a,b,c,e); `none` runs only (d) and the overload test. */
const CONFIGS = option('configs', 'a,b,c,e').split(',');
/**
 * Where Modelplane's instance threads run (with the CPU plan pinned): `own` = bound to the measured
 * CPU (instance_cpus) with the event loop beside the load generator; `shared` = the whole server on the
 * measured CPU, event loop and compute taking turns (sessions 2-7). Measured both ways in session 8:
 * closed loop, `shared` forms fuller batches (8% more at c=64 on the wide model) and keeps the tiny
 * model's event loop off the load generator's busy core; under overload, `own` keeps refusals off
 * ORT's core (batches 155 ms instead of 240, a third more answers).
 */
const SWEEP_INSTANCE_CPU = placementOption('sweep-instance-cpu', 'shared');
const OVERLOAD_INSTANCE_CPU = placementOption('overload-instance-cpu', 'own');
/** Writes the overload server's access log (one JSON line per request: queue and compute time) to this file. */
const OVERLOAD_ACCESS_LOG = option('overload-access-log', '');
const OUT = option('out', 'docs/bench');
const PLAN = cpuPlan(option('pin', 'on') !== 'off');
useCpuPlan(PLAN);

/** Every served configuration runs ONNX Runtime with as many intra-op threads as the measured CPUs, like (c) and (d). */
function withThreads(model: BenchModel): BenchModel {
  const onnx = { ...(model.extraConfig?.onnx as object | undefined), intra_op_threads: PLAN.measuredCpus };
  return { ...model, extraConfig: { ...model.extraConfig, onnx } };
}

interface Point {
  concurrency: number;
  /** Median of the reps' steady-state rates. */
  throughput: number;
  /** Median of the reps' 200s over wall time (connection set-up and the cut-off tail included), for comparison. */
  wallThroughput: number;
  p50: number;
  p95: number;
  p99: number;
  cpuPercent: number;
  nonOk: number;
  errors: number;
  /**
   * (d) measured in its own process right after each rep of this point (configuration (a) only, at
   * concurrency 64: inferences/s at (d)'s best batch size; at concurrency 1: p50 ms at batch 1), so
   * each served rep has a ceiling measured seconds from it, not minutes: on this VM the compute speed
   * of one core drifts by more than the margins the targets leave.
   */
  adjacent?: { batch: number; values: number[]; served: number[]; hugePageValues?: number[] };
}
/** A closed-loop rep's throughput: its steady-state rate (bench/lib/stats.ts steadyRatePerSecond), else 200s over the wall time. */
function rate(r: LoadResult): number {
  return r.steady_ok_per_second !== undefined && Number.isFinite(r.steady_ok_per_second) ? r.steady_ok_per_second : r.ok / r.seconds;
}

interface ConfigResult { key: string; label: string; points: Point[]; peakRssMiB: number }
interface InProcess { batch: number; inferencesPerSecond: number; spreadPercent: number; p50LatencyMs: number }
interface ModelResult { model: string; title: string; inProcess: InProcess[]; configs: ConfigResult[]; overload?: OverloadResult }
interface OverloadResult {
  sustainablePerSecond: number;
  offeredPerSecond: number;
  queueTimeoutMs: number;
  maxQueueSize: number;
  load: LoadResult;
  rssMiB: { first: number; max: number; last: number; samples: number };
  /** The same open-loop load against bench/baselines/refuse-only-server.ts: the harness's own floor for a refusal. */
  refusalFloor?: LoadResult;
}

/** (d) at one batch size in a fresh process, one short run: what the ceiling is right now; `hugePages` = (d'). */
async function ceilingNow(model: BenchModel, batch: number, hugePages = false): Promise<InProcess> {
  const { results } = await runJsonChild<{ results: InProcess[] }>([
    'bench/baselines/in-process.ts',
    JSON.stringify({ model: model.file, input: model.input, itemShape: model.shape.slice(1), batches: [batch], seconds: Math.max(2, SECONDS / 2), runs: 1, sampleFile: model.sampleFile, hugePages }),
  ]);
  return results[0]!;
}

async function sweep(model: BenchModel, server: ServerHandle, pairedBestBatch?: number): Promise<Point[]> {
  const url = `${server.url}/v2/models/${model.name}/infer`;
  await runLoad({ url, bodyFile: model.bodyFile, headers: requestHeaders(model), connections: 64, durationSeconds: WARMUP_SECONDS });
  const points: Point[] = [];
  for (const concurrency of CONCURRENCY) {
    const runs: Array<LoadResult & { cpuPercent: number }> = [];
    await runLoad({ url, bodyFile: model.bodyFile, headers: requestHeaders(model), connections: concurrency, durationSeconds: 1 });
    const pairedBatch = pairedBestBatch === undefined ? undefined : concurrency === 1 ? 1 : concurrency === 64 ? pairedBestBatch : undefined;
    const adjacent: number[] = [];
    const adjacentHugePages: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const cpu0 = server.cpuSeconds();
      const result = await runLoad({ url, bodyFile: model.bodyFile, headers: requestHeaders(model), connections: concurrency, durationSeconds: SECONDS });
      runs.push({ ...result, cpuPercent: ((server.cpuSeconds() - cpu0) / result.seconds) * 100 });
      if (pairedBatch !== undefined) {
        const d = await ceilingNow(model, pairedBatch);
        adjacent.push(concurrency === 1 ? d.p50LatencyMs : d.inferencesPerSecond);
        // At concurrency 1 also (d'), the same weights on huge pages as Modelplane places them: (a) − (d') is the serving overhead alone.
        if (concurrency === 1) adjacentHugePages.push((await ceilingNow(model, 1, true)).p50LatencyMs);
      }
    }
    const point: Point = {
      concurrency,
      throughput: median(runs.map(rate)),
      wallThroughput: median(runs.map((r) => r.ok / r.seconds)),
      p50: median(runs.map((r) => r.ok_ms.p50 ?? NaN)),
      p95: median(runs.map((r) => r.ok_ms.p95 ?? NaN)),
      p99: median(runs.map((r) => r.ok_ms.p99 ?? NaN)),
      cpuPercent: median(runs.map((r) => r.cpuPercent)),
      nonOk: runs.reduce((n, r) => n + (r.requests - r.ok), 0),
      errors: runs.reduce((n, r) => n + r.errors, 0),
      ...(pairedBatch !== undefined ? { adjacent: { batch: pairedBatch, values: adjacent, served: runs.map((r) => (concurrency === 1 ? r.ok_ms.p50 ?? NaN : rate(r))), ...(adjacentHugePages.length > 0 ? { hugePageValues: adjacentHugePages } : {}) } } : {}),
    };
    console.log(`    c=${concurrency}: ${fmt(point.throughput)} inf/s (over wall time ${fmt(point.wallThroughput)}), p50 ${fmt(point.p50, 2)} ms, p99 ${fmt(point.p99, 2)} ms, cpu ${fmt(point.cpuPercent)}%, non-200 ${point.nonOk + point.errors}`);
    if (point.adjacent) console.log(`      (d) batch ${point.adjacent.batch} right after each rep: ${point.adjacent.values.map((v) => fmt(v, 2)).join(', ')}${point.adjacent.hugePageValues ? `; (d') on huge pages: ${point.adjacent.hugePageValues.map((v) => fmt(v, 2)).join(', ')}` : ''} (served: ${point.adjacent.served.map((v) => fmt(v, 2)).join(', ')})`);
    points.push(point);
  }
  return points;
}

async function measureConfig(model: BenchModel, key: string, label: string, args: string[], env: Record<string, string> = {}, pairedBestBatch?: number, cpus?: string): Promise<ConfigResult> {
  console.log(`  (${key}) ${label}`);
  const server = await startServerProcess(args, env, undefined, cpus);
  try {
    const points = await sweep(model, server, pairedBestBatch);
    return { key, label, points, peakRssMiB: server.memory().peakRssBytes / 2 ** 20 };
  } finally {
    await server.stop();
  }
}

/**
 * Where a Modelplane server runs under the CPU plan (cpu-plan.ts): with its instances in their own
 * threads, its process beside the load generator and `instance_cpus` on the measured CPUs; with an
 * inline instance (compute on the event loop), on the measured CPUs like every other server.
 */
function placeModelplane(model: BenchModel, placement: 'own' | 'shared', extra: Record<string, unknown> = {}): { extra: Record<string, unknown>; cpus: string | undefined } {
  const inline = (extra.instance_kind ?? model.extraConfig?.instance_kind) === 'inline';
  if (!PLAN.modelplane || inline || placement === 'shared') return { extra, cpus: PLAN.measured };
  return { extra: { ...extra, instance_cpus: PLAN.modelplane.instanceCpus }, cpus: PLAN.modelplane.process };
}

/** Access logs off: this benchmark measures serving; bench/observability.ts measures what logs and metrics cost. */
function serveArgs(repo: string): string[] {
  return ['src/cli/main.ts', 'serve', '--repository', repo, '--port', '0', '--no-access-log'];
}

function placementOption(name: string, fallback: 'own' | 'shared'): 'own' | 'shared' {
  const value = option(name, fallback);
  if (value !== 'own' && value !== 'shared') throw new Error(`--${name} must be 'own' or 'shared', not '${value}'`);
  return value;
}

function overloadTimeoutMs(inProcess: readonly InProcess[]): number {
  if (OVERLOAD_TIMEOUT !== 'auto') return Number(OVERLOAD_TIMEOUT);
  const largest = inProcess.reduce((x, y) => (y.batch > x.batch ? y : x));
  return Math.max(250, Math.ceil((3 * largest.p50LatencyMs) / 10) * 10);
}

async function overload(model: BenchModel, queueTimeoutMs: number): Promise<OverloadResult> {
  const maxQueueSize = 256;
  const placement = placeModelplane(model, OVERLOAD_INSTANCE_CPU, {
    ...OVERLOAD_INSTANCE,
    onnx: { ...OVERLOAD_INSTANCE.onnx },
    dynamic_batching: { ...model.dynamicBatching, default_queue_policy: { max_queue_size: maxQueueSize, default_timeout_us: queueTimeoutMs * 1000 } },
  });
  const repo = writeRepository(model, 'overload', true, placement.extra);
  const args = OVERLOAD_ACCESS_LOG ? serveArgs(repo).filter((a) => a !== '--no-access-log') : serveArgs(repo);
  const server = await startServerProcess(args, { LOG_LEVEL: 'info' }, OVERLOAD_ACCESS_LOG || undefined, placement.cpus);
  try {
    const url = `${server.url}/v2/models/${model.name}/infer`;
    await runLoad({ url, bodyFile: model.bodyFile, headers: requestHeaders(model), connections: 64, durationSeconds: WARMUP_SECONDS });
    // The sustainable rate of this very configuration, closed loop at concurrency 64.
    const closed = await runLoad({ url, bodyFile: model.bodyFile, headers: requestHeaders(model), connections: 64, durationSeconds: SECONDS });
    const sustainable = rate(closed);
    const offered = Math.round(sustainable * 3);
    const rss: number[] = [];
    const sampler = setInterval(() => rss.push(server.memory().rssBytes / 2 ** 20), 250);
    const load = await runLoad({
      url, bodyFile: model.bodyFile, headers: requestHeaders(model),
      connections: 1024, durationSeconds: 10, ratePerSecond: offered,
    });
    clearInterval(sampler);
    const refusalFloor = await refusalFloorAt(model, offered, placement.cpus);
    console.log(`  overload at ${offered}/s (queue timeout ${queueTimeoutMs} ms): ok ${load.ok}, refused ${load.refused_ms.count}, ok p99 ${fmt(load.ok_ms.p99, 1)} ms, refusal p99 ${fmt(load.refused_ms.p99, 2)} ms (${fmt(load.refused_from_send_ms?.p99 ?? null, 2)} ms from the actual send), timed out in queue ${load.expired_ms?.count ?? 0} (p99 ${fmt(load.expired_ms?.p99 ?? null, 1)} ms), rss ${Math.min(...rss).toFixed(0)}..${Math.max(...rss).toFixed(0)} MiB, generator lag p99 ${fmt(load.send_lag_ms?.p99 ?? null, 2)} ms; refuse-only floor p99 ${fmt(refusalFloor.refused_from_send_ms?.p99 ?? null, 2)} ms from the actual send`);
    return { sustainablePerSecond: sustainable, offeredPerSecond: offered, queueTimeoutMs, maxQueueSize, load, rssMiB: { first: rss[0] ?? NaN, max: Math.max(...rss), last: rss[rss.length - 1] ?? NaN, samples: rss.length }, refusalFloor };
  } finally {
    await server.stop();
  }
}

/**
 * What a refusal costs on this machine with no model at all: the overload test's load, at its
 * rate, against a server that refuses everything from the headers. Modelplane's refusal latency is
 * this floor plus what serving adds (sharing the event loop with admitted requests). It runs where
 * Modelplane's event loop ran.
 */
async function refusalFloorAt(model: BenchModel, offeredPerSecond: number, cpus: string | undefined): Promise<LoadResult> {
  const server = await startServerProcess(['bench/baselines/refuse-only-server.ts', '0'], {}, undefined, cpus);
  try {
    const url = `${server.url}/v2/models/${model.name}/infer`;
    await runLoad({ url, bodyFile: model.bodyFile, headers: requestHeaders(model), connections: 1024, durationSeconds: 3, ratePerSecond: offeredPerSecond });
    return await runLoad({ url, bodyFile: model.bodyFile, headers: requestHeaders(model), connections: 1024, durationSeconds: 10, ratePerSecond: offeredPerSecond });
  } finally {
    await server.stop();
  }
}

async function benchModel(model: BenchModel): Promise<ModelResult> {
  console.log(`\n${model.title}`);
  const batches = [1, 2, 4, 8, 16, 32, 64].filter((b) => b <= model.maxBatchSize);
  const { results: inProcess } = await runJsonChild<{ results: InProcess[] }>([
    'bench/baselines/in-process.ts',
    JSON.stringify({ model: model.file, input: model.input, itemShape: model.shape.slice(1), batches, seconds: Math.max(2, SECONDS / 2), runs: RUNS, sampleFile: model.sampleFile }),
  ]);
  for (const r of inProcess) console.log(`  (d) in-process batch ${r.batch}: ${r.inferencesPerSecond.toFixed(0)} inf/s (p50 ${r.p50LatencyMs.toFixed(2)} ms per batch)`);
  const configs: ConfigResult[] = [];
  const bestBatch = inProcess.reduce((x, y) => (y.inferencesPerSecond > x.inferencesPerSecond ? y : x)).batch;
  const placement = placeModelplane(model, SWEEP_INSTANCE_CPU);
  if (CONFIGS.includes('a')) configs.push(await measureConfig(model, 'a', 'Modelplane, dynamic batching', serveArgs(writeRepository(model, 'batching', true, placement.extra)), { LOG_LEVEL: 'info' }, bestBatch, placement.cpus));
  if (CONFIGS.includes('b')) configs.push(await measureConfig(model, 'b', 'Modelplane, batching off', serveArgs(writeRepository(model, 'nobatch', false, placement.extra)), { LOG_LEVEL: 'info' }, undefined, placement.cpus));
  if (CONFIGS.includes('c')) configs.push(await measureConfig(model, 'c', 'naive fastify + session.run', ['bench/baselines/naive-server.ts', model.file, '0']));
  if (CONFIGS.includes('e') && model.name !== 'ocr-recognition') {
    configs.push(await measureConfig(model, 'e', 'parse-only server (HTTP ceiling)', ['bench/baselines/parse-only-server.ts', JSON.stringify([model.output]), '0']));
  }
  const result: ModelResult = { model: model.name, title: model.title, inProcess, configs };
  if (OVERLOAD.split(',').includes(model.name.replace(/-mlp$/, '')) || OVERLOAD === model.name) {
    result.overload = await overload(model, overloadTimeoutMs(inProcess));
  }
  return result;
}

function fmt(n: number | null, digits = 0): string {
  return n !== null && Number.isFinite(n) ? n.toFixed(digits) : '—';
}

function renderMarkdown(results: ModelResult[], command: string): string {
  const lines: string[] = [];
  lines.push(`<!-- generated by bench/run.ts; do not edit -->`);
  lines.push(`Command: \`${command}\`  `);
  lines.push(`Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString()}  `);
  lines.push(`Each point: ${RUNS} runs of ${SECONDS} s after warm-up (${WARMUP_SECONDS} s at concurrency 64 per server, 1 s per level); medians of the steady-state rate (completions per second after the first 0.5 s, until the clients stop). Load: a raw keep-alive client in its own process (bench/lib/closed-loop.ts), binary tensors (one item per request).  `);
  lines.push(`CPUs: ${fromLog ? 'see the run log' : `${PLAN.description}; Modelplane's instance threads: ${SWEEP_INSTANCE_CPU} in the sweep, ${OVERLOAD_INSTANCE_CPU} in the overload test`}.`);
  for (const r of results) {
    lines.push('', `### ${r.title}`, '');
    lines.push('(d) in-process ONNX Runtime, no HTTP:', '', '| batch | inferences/s | spread | p50 per batch (ms) |', '|---:|---:|---:|---:|');
    for (const p of r.inProcess) lines.push(`| ${p.batch} | ${fmt(p.inferencesPerSecond)} | ±${fmt(p.spreadPercent / 2, 1)}% | ${fmt(p.p50LatencyMs, 2)} |`);
    lines.push('', '| config | concurrency | inferences/s (steady) | over wall time | p50 ms | p95 ms | p99 ms | server CPU % | non-200 | peak RSS MiB |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const c of r.configs) {
      for (const p of c.points) {
        lines.push(`| (${c.key}) ${c.label} | ${p.concurrency} | ${fmt(p.throughput)} | ${fmt(p.wallThroughput)} | ${fmt(p.p50, 2)} | ${fmt(p.p95, 2)} | ${fmt(p.p99, 2)} | ${fmt(p.cpuPercent)} | ${p.nonOk + p.errors} | ${fmt(c.peakRssMiB)} |`);
      }
    }
    const a = r.configs.find((c) => c.key === 'a');
    const b = r.configs.find((c) => c.key === 'b');
    const cc = r.configs.find((c) => c.key === 'c');
    const e = r.configs.find((c) => c.key === 'e');
    const bestD = Math.max(...r.inProcess.map((p) => p.inferencesPerSecond));
    const bestA = Math.max(...(a?.points ?? []).filter((p) => p.concurrency <= 64).map((p) => p.throughput));
    const at = (c: ConfigResult | undefined, n: number) => c?.points.find((p) => p.concurrency === n);
    lines.push('', '| ratio (same run) | value |', '|---|---:|');
    lines.push(`| (a) best at concurrency ≤ 64 / (d) best | ${fmt((bestA / bestD) * 100, 1)}% (${fmt(bestA)} / ${fmt(bestD)}) |`);
    const a64 = at(a, 64);
    const b64 = at(b, 64);
    const c64 = at(cc, 64);
    if (a64 && c64) lines.push(`| (a) / (c) throughput at concurrency 64 | ${fmt(a64.throughput / c64.throughput, 2)}× (p99 ${fmt(a64.p99, 1)} vs ${fmt(c64.p99, 1)} ms) |`);
    if (a64 && b64) lines.push(`| (a) / (b) throughput at concurrency 64 | ${fmt(a64.throughput / b64.throughput, 2)}× |`);
    const a1 = at(a, 1);
    const d1 = r.inProcess.find((p) => p.batch === 1);
    if (a1 && d1) lines.push(`| (a) p50 at concurrency 1 − (d) p50 at batch 1 | ${fmt(a1.p50 - d1.p50LatencyMs, 2)} ms (${fmt(a1.p50, 2)} vs ${fmt(d1.p50LatencyMs, 2)}) |`);
    // Paired with (d) measured right after each rep (see Point.adjacent): median of the per-rep ratios or differences.
    if (a64?.adjacent) {
      const ratios = a64.adjacent.served.map((v, i) => v / a64.adjacent!.values[i]!);
      lines.push(`| (a) at concurrency 64 / (d) batch ${a64.adjacent.batch} measured right after each rep | ${fmt(median(ratios) * 100, 1)}% median (reps: ${ratios.map((x) => `${fmt(x * 100, 1)}%`).join(', ')}; (d) ${a64.adjacent.values.map((v) => fmt(v)).join(', ')} inf/s) |`);
    }
    if (a1?.adjacent) {
      const diffs = a1.adjacent.served.map((v, i) => v - a1.adjacent!.values[i]!);
      lines.push(`| (a) p50 at concurrency 1 − (d) batch-1 p50 measured right after each rep | ${fmt(median(diffs), 2)} ms median (reps: ${diffs.map((x) => fmt(x, 2)).join(', ')}) |`);
      const huge = a1.adjacent.hugePageValues;
      if (huge) {
        const overhead = a1.adjacent.served.map((v, i) => v - huge[i]!);
        lines.push(`| (a) p50 at concurrency 1 − (d') batch-1 p50 with the weights on huge pages as (a) has them, right after each rep (the serving overhead alone) | ${fmt(median(overhead), 2)} ms median (reps: ${overhead.map((x) => fmt(x, 2)).join(', ')}; (d') ${huge.map((v) => fmt(v, 2)).join(', ')} ms) |`);
      }
    }
    if (e) {
      const bestE = Math.max(...e.points.filter((p) => p.concurrency <= 64).map((p) => p.throughput));
      lines.push(`| (a) best / (e) parse-only best (HTTP ceiling) | ${fmt((bestA / bestE) * 100, 1)}% (${fmt(bestA)} / ${fmt(bestE)}) |`);
    }
    lines.push('', `![${r.model}](${r.model}.svg)`);
    if (r.overload) {
      const o = r.overload;
      lines.push('', `Overload (instance in its own thread, placed as the CPU plan above says; open loop (bench/lib/open-loop.ts: evenly spaced arrivals, latency from each request's scheduled send time; generator lag p99 ${fmt(o.load.send_lag_ms?.p99 ?? NaN, 2)} ms), ${fmt(o.offeredPerSecond)} req/s offered = 3 × this configuration's closed-loop throughput at concurrency 64, ${fmt(o.sustainablePerSecond)}/s, 10 s, 1024 connections; queue timeout ${o.queueTimeoutMs} ms, max queue ${o.maxQueueSize}):`, '');
      lines.push('| admitted (200) | admitted p50 / p99 / max ms | refused at admission (429/503) | refusal p50 / p99 ms (p99 from the actual send) | timed out in queue (503) | queue timeout p50 / p99 ms | other | RSS first / max / last MiB |', '|---:|---:|---:|---:|---:|---:|---:|---:|');
      const other = Object.entries(o.load.status).filter(([s]) => !['200', '429', '503'].includes(s)).map(([s, n]) => `${s}:${n}`).join(' ') || '0';
      const expired = o.load.expired_ms;
      const floor = o.refusalFloor;
      lines.push(`| ${o.load.ok} | ${fmt(o.load.ok_ms.p50, 1)} / ${fmt(o.load.ok_ms.p99, 1)} / ${fmt(o.load.ok_ms.max, 1)} | ${o.load.refused_ms.count} | ${fmt(o.load.refused_ms.p50, 2)} / ${fmt(o.load.refused_ms.p99, 2)} (${fmt(o.load.refused_from_send_ms?.p99 ?? NaN, 2)}) | ${expired?.count ?? '—'} | ${fmt(expired?.p50 ?? NaN, 1)} / ${fmt(expired?.p99 ?? NaN, 1)} | ${other} (errors ${o.load.errors}) | ${fmt(o.rssMiB.first)} / ${fmt(o.rssMiB.max)} / ${fmt(o.rssMiB.last)} |`);
      if (floor) {
        lines.push('', `Refusal floor of this machine and harness (the same load against bench/baselines/refuse-only-server.ts, which refuses every request from its headers and runs no model): ${floor.refused_ms.count} refused, p50 ${fmt(floor.refused_ms.p50, 2)} ms, p99 ${fmt(floor.refused_ms.p99, 2)} ms (${fmt(floor.refused_from_send_ms?.p99 ?? NaN, 2)} from the actual send), generator lag p99 ${fmt(floor.send_lag_ms?.p99 ?? NaN, 2)} ms.`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

function plot(r: ModelResult): string {
  const series = (metric: 'throughput' | 'p99') => r.configs.map((c) => ({ name: `(${c.key}) ${c.label}`, points: c.points.map((p) => ({ x: p.concurrency, y: p[metric] })) }));
  const bestD = Math.max(...r.inProcess.map((p) => p.inferencesPerSecond));
  const throughput = [...series('throughput'), { name: '(d) in-process best', points: CONCURRENCY.map((x) => ({ x, y: bestD })) }];
  return linePanels(r.title, [
    { label: 'throughput (inferences/s)', series: throughput },
    { label: 'p99 latency (ms, log)', series: series('p99'), logY: true },
  ]);
}

/**
 * Rebuilds the report from a run's console log (`--from-log FILE`), for a run whose report was not
 * written (e.g. it was stopped after the models of interest). Only what the log prints is known.
 */
function resultsFromLog(text: string): ModelResult[] {
  const titles = new Map([['tiny', 'tiny-mlp'], ['2048-8192', 'wide-mlp'], ['PP-OCRv4', 'ocr-recognition']]);
  const out: ModelResult[] = [];
  let model: ModelResult | undefined;
  let config: ConfigResult | undefined;
  for (const line of text.split('\n')) {
    const name = [...titles].find(([k]) => !line.startsWith(' ') && line.includes(k))?.[1];
    if (name) {
      model = { model: name, title: line.trim(), inProcess: [], configs: [] };
      out.push(model);
      continue;
    }
    if (!model) continue;
    let m = /^ {2}\(d\) in-process batch (\d+): ([\d.]+) inf\/s \(p50 ([\d.]+) ms/.exec(line);
    if (m) {
      model.inProcess.push({ batch: Number(m[1]), inferencesPerSecond: Number(m[2]), spreadPercent: NaN, p50LatencyMs: Number(m[3]) });
      continue;
    }
    m = /^ {2}\(([a-e])\) (.+)$/.exec(line);
    if (m) {
      config = { key: m[1]!, label: m[2]!, points: [], peakRssMiB: NaN };
      model.configs.push(config);
      continue;
    }
    m = /^ {4}c=(\d+): ([\d.—]+) inf\/s(?: \(over wall time ([\d.—]+)\))?, p50 ([\d.—]+) ms, p99 ([\d.—]+) ms, cpu ([\d.—]+)%/.exec(line);
    if (m && config) {
      const n = (v: string | undefined) => (v === undefined || v === '—' ? NaN : Number(v));
      config.points.push({ concurrency: Number(m[1]), throughput: n(m[2]), wallThroughput: n(m[3]), p50: n(m[4]), p95: NaN, p99: n(m[5]), cpuPercent: n(m[6]), nonOk: 0, errors: 0 });
      continue;
    }
    m = /^ {6}\(d\) batch (\d+) right after each rep: ([\d., —]+) \(served: ([\d., —]+)\)/.exec(line);
    const point = config?.points.at(-1);
    if (m && point) {
      const list = (v: string) => v.split(', ').map((x) => (x === '—' ? NaN : Number(x)));
      point.adjacent = { batch: Number(m[1]), values: list(m[2]!), served: list(m[3]!) };
      continue;
    }
    m = /^ {2}overload at (\d+)\/s(?: \(queue timeout (\d+) ms\))?: ok (\d+), refused (\d+), ok p99 ([\d.]+) ms, refusal p99 ([\d.]+) ms.*?, rss (\d+)\.\.(\d+) MiB/.exec(line);
    if (m) {
      const none = { p50: NaN, p95: NaN, max: NaN };
      model.overload = {
        sustainablePerSecond: Number(m[1]) / 3, offeredPerSecond: Number(m[1]), queueTimeoutMs: Number(m[2] ?? 250), maxQueueSize: 256,
        load: { requests: Number(m[3]) + Number(m[4]), ok: Number(m[3]), status: { 200: Number(m[3]) }, errors: 0, seconds: 10,
          ok_ms: { ...none, p99: Number(m[5]) }, refused_ms: { ...none, p99: Number(m[6]), count: Number(m[4]) } },
        rssMiB: { first: Number(m[7]), max: Number(m[8]), last: NaN, samples: 0 },
      };
    }
  }
  return out;
}

const fromLog = option('from-log', '');
const command = fromLog ? option('command', 'npm run bench') : `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
const results: ModelResult[] = [];
if (fromLog) {
  results.push(...resultsFromLog((await import('node:fs')).readFileSync(fromLog, 'utf8')));
} else {
  console.log(`CPUs: ${PLAN.description}; Modelplane's instance threads: ${SWEEP_INSTANCE_CPU} in the sweep, ${OVERLOAD_INSTANCE_CPU} in the overload test`);
  for (const model of await prepareModels(MODELS)) results.push(await benchModel(withThreads(model)));
}
mkdirSync(OUT, { recursive: true });
writeFileSync(join(OUT, 'results.json'), JSON.stringify({ command, date: new Date().toISOString(), results }, null, 2));
writeFileSync(join(OUT, 'results.md'), renderMarkdown(results, command));
for (const r of results) writeFileSync(join(OUT, `${r.model}.svg`), plot(r));
console.log(`\nwrote ${OUT}/results.md`);
