/**
 * What observability costs (issue 5): Modelplane with dynamic batching, everything on by default
 * (access log at info written to a file, /metrics scraped every second as Prometheus would) against
 * the same server with `--no-metrics --no-access-log`. Both servers run side by
 * side and the load alternates between them (on, off, on, off, ...) so drift hits both alike;
 * separate load-generator process, warm-up, medians of several runs.
 *
 *   npm run bench:observability                              # tiny and wide models, c=64, 5 runs each
 *   npm run bench:observability -- --models tiny --runs 3 --seconds 3
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { prepareModels, requestHeaders, writeRepository, WORK_DIR, type BenchModel } from './models.js';
import { option } from './lib/cli-option.js';
import { runLoad, startServerProcess, type ServerHandle } from './lib/processes.js';
import { median } from './lib/stats.js';

const MODELS = option('models', 'tiny,wide').split(',');
const CONCURRENCY = Number(option('concurrency', '64'));
const SECONDS = Number(option('seconds', '4'));
const RUNS = Number(option('runs', '5'));
const OUT = option('out', 'docs/bench/observability.json');

interface Run { throughput: number; p50: number; p99: number; cpuUsPerRequest: number }
interface Side { label: string; runs: Run[]; logBytes: number }

async function load(model: BenchModel, server: ServerHandle, seconds: number): Promise<Run> {
  const cpu0 = server.cpuSeconds();
  const r = await runLoad({ url: `${server.url}/v2/models/${model.name}/infer`, bodyFile: model.bodyFile, headers: requestHeaders(model), connections: CONCURRENCY, durationSeconds: seconds });
  // Server CPU per answered request: what observability costs the server, whatever share of the machine it got.
  const cpuUsPerRequest = ((server.cpuSeconds() - cpu0) * 1e6) / Math.max(1, r.ok);
  return { throughput: r.ok / r.seconds, p50: r.ok_ms.p50, p99: r.ok_ms.p99, cpuUsPerRequest };
}

/** Scrapes /metrics every second while a run lasts, as a Prometheus server would. */
function scraper(server: ServerHandle): () => void {
  const timer = setInterval(() => {
    fetch(`${server.url}/metrics`).then((r) => r.text()).catch(() => undefined);
  }, 1000);
  return () => clearInterval(timer);
}

async function compare(model: BenchModel): Promise<{ model: string; on: Side; off: Side }> {
  console.log(`\n${model.title}, c=${CONCURRENCY}`);
  const repo = writeRepository(model, 'observability', true);
  const logFile = join(WORK_DIR, `${model.name}-access.log`);
  const base = ['src/cli/main.ts', 'serve', '--repository', repo, '--port', '0'];
  const onServer = await startServerProcess(base, { LOG_LEVEL: 'info' }, logFile);
  const offServer = await startServerProcess([...base, '--no-metrics', '--no-access-log'], { LOG_LEVEL: 'info' });
  try {
    const on: Side = { label: 'metrics + access log on (default)', runs: [], logBytes: 0 };
    const off: Side = { label: '--no-metrics --no-access-log', runs: [], logBytes: 0 };
    for (const s of [onServer, offServer]) await load(model, s, 3); // warm-up
    for (let r = 0; r < RUNS; r++) {
      // Alternate which goes first, so neither always follows the other.
      const order: Array<[Side, ServerHandle]> = r % 2 === 0 ? [[on, onServer], [off, offServer]] : [[off, offServer], [on, onServer]];
      for (const [side, server] of order) {
        const stop = side === on ? scraper(server) : () => undefined;
        const run = await load(model, server, SECONDS);
        stop();
        side.runs.push(run);
        console.log(`  ${side === on ? 'on ' : 'off'} run ${r + 1}: ${run.throughput.toFixed(0)} inf/s, p50 ${run.p50.toFixed(2)} ms, p99 ${run.p99.toFixed(2)} ms, server CPU ${run.cpuUsPerRequest.toFixed(0)} µs/request`);
      }
    }
    on.logBytes = statSync(logFile).size;
    const tOn = median(on.runs.map((r) => r.throughput));
    const tOff = median(off.runs.map((r) => r.throughput));
    const cOn = median(on.runs.map((r) => r.cpuUsPerRequest));
    const cOff = median(off.runs.map((r) => r.cpuUsPerRequest));
    console.log(`  median on ${tOn.toFixed(0)} vs off ${tOff.toFixed(0)} inf/s: on/off = ${(tOn / tOff).toFixed(3)} (cost ${((1 - tOn / tOff) * 100).toFixed(1)}%); server CPU ${cOn.toFixed(0)} vs ${cOff.toFixed(0)} µs/request (+${((cOn / cOff - 1) * 100).toFixed(1)}%); access log ${(on.logBytes / 2 ** 20).toFixed(1)} MiB`);
    return { model: model.name, on, off };
  } finally {
    await onServer.stop();
    await offServer.stop();
  }
}

const models = await prepareModels(MODELS);
const results = [];
for (const m of models) results.push(await compare(m));
mkdirSync(join(OUT, '..'), { recursive: true });
writeFileSync(OUT, JSON.stringify({
  command: `npm run bench:observability -- ${process.argv.slice(2).join(' ')}`.trim(),
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
  date: new Date().toISOString(),
  concurrency: CONCURRENCY, seconds: SECONDS, runs: RUNS,
  results: results.map((r) => ({
    model: r.model,
    on: { ...r.on, median: median(r.on.runs.map((x) => x.throughput)), medianCpuUsPerRequest: median(r.on.runs.map((x) => x.cpuUsPerRequest)) },
    off: { ...r.off, median: median(r.off.runs.map((x) => x.throughput)), medianCpuUsPerRequest: median(r.off.runs.map((x) => x.cpuUsPerRequest)) },
  })),
}, null, 2));
console.log(`\nwrote ${OUT}`);
