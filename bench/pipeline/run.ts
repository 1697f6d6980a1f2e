/**
 * Pipeline throughput: each scenario in a fresh process, REPS times, interleaved, medians reported with
 * min-max spread and the ratio to raw BullMQ measured on the same Redis in the same run.
 *
 *   node --import tsx bench/pipeline/run.ts [N=2000] [CONCURRENCY=16] [REPS=3]
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';

const [n = '2000', c = '16', repsArg = '3'] = process.argv.slice(2);
const REPS = Number(repsArg);
const SCENARIOS = ['bullmq-raw', 'redis-noop', 'redis-3step', 'sqlite-noop', 'sqlite-3step'] as const;
const script = fileURLToPath(new URL('./scenario.ts', import.meta.url));

interface Result { submitPerS: number; processPerS: number }
const results = new Map<string, Result[]>(SCENARIOS.map((s) => [s, []]));
for (let rep = 0; rep < REPS; rep++) {
  for (const s of SCENARIOS) {
    const out = execFileSync(process.execPath, ['--import', 'tsx', script, s, n, c], { encoding: 'utf8' });
    const r = JSON.parse(out.trim().split('\n').at(-1)!) as Result;
    results.get(s)!.push(r);
    process.stderr.write(`${s} rep ${rep + 1}: process ${r.processPerS.toFixed(0)}/s, submit ${r.submitPerS.toFixed(0)}/s\n`);
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (xs: number[]): string => `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
const base = median(results.get('bullmq-raw')!.map((r) => r.processPerS));
const baseSubmit = median(results.get('bullmq-raw')!.map((r) => r.submitPerS));
const lines = [
  `N=${n} runs per scenario, worker concurrency ${c}, ${REPS} reps, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), Node ${process.version}`,
  '',
  '| scenario | processed/s median (min–max) | vs raw BullMQ | submitted/s median (min–max) | vs raw BullMQ |',
  '|---|---|---|---|---|',
];
for (const s of SCENARIOS) {
  const r = results.get(s)!;
  const p = r.map((x) => x.processPerS);
  const sub = r.map((x) => x.submitPerS);
  lines.push(`| ${s} | ${fmt(p)} | ${(median(p) / base).toFixed(2)} | ${fmt(sub)} | ${(median(sub) / baseSubmit).toFixed(2)} |`);
}
process.stdout.write(`${lines.join('\n')}\n`);
