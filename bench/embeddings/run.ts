/**
 * Embeddings benchmark: single-sentence /v1/embeddings requests against the server (its own process,
 * load from another process), compared with USE-lite called in-process on TF.js at its best batch
 * size, measured in the same run. Also: mixed sentence lengths, the response cache on and off with a
 * repeat rate, and padding waste of a padded (Hugging Face style) encoder on mixed lengths.
 *
 *   npx tsx bench/embeddings/run.ts [--seconds 4] [--reps 2] [--concurrency 1,16,64]
 *
 * Load comes from bench/embeddings/load.ts (raw keep-alive HTTP, prepared request bytes; its own CPU
 * per request is reported, as it shares the machine with the server).
 *
 * Prints a markdown report and writes bench/results/embeddings.json.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildTextEncoderModel } from '../../scripts/lib/text-encoder-model.js';
import { addUseModel, useConfig } from '../../scripts/lib/use-direct.js';
import { WORDPIECE_VOCAB, wordpieceTokenizerJson } from '../../test/helpers/wordpiece-tokenizer.js';
import { runJsonChild, startServerProcess, type ServerHandle } from '../lib/processes.js';
import { median } from '../lib/stats.js';
import { sentences } from './sentences.js';

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '4' }, reps: { type: 'string', default: '2' }, concurrency: { type: 'string', default: '1,16,64' }, warmup: { type: 'string', default: '12' } } });
const SECONDS = Number(args.seconds);
/** Seconds of load before the first measurement: V8 keeps compiling the request path (and tiering up TF.js's wasm) for several seconds under load. */
const WARMUP_SECONDS = Number(args.warmup);
const REPS = Number(args.reps);
const CONCURRENCY = args.concurrency.split(',').map(Number);

interface LoadOut { ok: number; failed: number; perSecond: number; p50Ms: number; p95Ms: number; cpuMsPerRequest: number }
interface Baseline { results: Array<{ batchSize: number; textsPerSecond: number; p50BatchMs: number; cpuMsPerText: number }> }

async function buildRepo(): Promise<string> {
  const repo = await mkdtemp(join(tmpdir(), 'mp-bench-emb-'));
  const config = await useConfig();
  const text = config.text_embedding as Record<string, unknown>;
  await addUseModel(repo, 'text-embedding', config);
  await addUseModel(repo, 'text-embedding-cached', { ...config, text_embedding: { ...text, response_cache: { enable: true, max_bytes: 64 << 20 } } });
  const mini = join(repo, 'mini-encoder');
  await mkdir(join(mini, '1'), { recursive: true });
  await writeFile(join(mini, '1', 'model.onnx'), buildTextEncoderModel({ vocabSize: WORDPIECE_VOCAB.length, hidden: 64, seed: 5 }));
  await writeFile(join(mini, '1', 'tokenizer.json'), JSON.stringify(wordpieceTokenizerJson()));
  await writeFile(join(mini, 'config.json'), JSON.stringify({
    backend: 'onnx', max_batch_size: 64,
    text_embedding: { tokenizer: { type: 'huggingface' }, encoder_inputs: { kind: 'padded', token_type_ids: 'token_type_ids' }, encoder_output: 'last_hidden_state', pooling: 'mean', max_tokens: 128 },
    dynamic_batching: { max_queue_delay_us: 2000, max_batch_tokens: 4096 },
  }));
  return repo;
}

let fileCount = 0;
async function load(server: ServerHandle, model: string, texts: string[], concurrency: number, repeatRate = 0, hot: string[] = [], seconds = SECONDS): Promise<LoadOut> {
  const textsFile = join(repo, `texts-${fileCount++}.json`);
  await writeFile(textsFile, JSON.stringify({ texts, hot }));
  return runJsonChild<LoadOut>(['bench/embeddings/load.ts', JSON.stringify({ url: server.url, model, textsFile, repeatRate, concurrency, seconds, seed: concurrency })]);
}

interface Repeated { perSecond: number; p50Ms: number; cpuMsPerText: number; loadgenCpuMsPerRequest: number; runs: number[]; p50Runs: number[]; failed: number }

/**
 * REPS runs; the medians of throughput, p50 latency, the server's CPU ms per answered text and the
 * load generator's CPU ms per request. `after` runs after each rep (the adjacent baseline).
 */
async function repeated(run: () => Promise<LoadOut>, after?: () => Promise<void>): Promise<Repeated> {
  const outs: Array<LoadOut & { cpuMsPerText: number }> = [];
  for (let i = 0; i < REPS; i++) {
    const cpu0 = server.cpuSeconds();
    const out = await run();
    outs.push({ ...out, cpuMsPerText: ((server.cpuSeconds() - cpu0) * 1000) / Math.max(1, out.ok) });
    await after?.();
  }
  return {
    perSecond: median(outs.map((o) => o.perSecond)), p50Ms: median(outs.map((o) => o.p50Ms)), cpuMsPerText: median(outs.map((o) => o.cpuMsPerText)),
    loadgenCpuMsPerRequest: median(outs.map((o) => o.cpuMsPerRequest)),
    runs: outs.map((o) => Math.round(o.perSecond)), p50Runs: outs.map((o) => Number(o.p50Ms.toFixed(1))), failed: outs.reduce((s, o) => s + o.failed, 0),
  };
}

async function metric(url: string, name: string, model: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`model="${model}"`));
  return line ? Number(line.split(' ').at(-1)) : NaN;
}

const short = sentences(1, 4000, 6, 14);
const mixed = sentences(2, 4000, 3, 60);
const hot = sentences(3, 50, 6, 14);
const wordpieceText = (seed: number) => sentences(seed, 4000, 3, 60).map((s) => s.split(' ').map((_, i) => WORDPIECE_VOCAB[4 + ((i * 7 + seed) % (WORDPIECE_VOCAB.length - 4))]).join(' '));

console.error('baseline: in-process TF.js');
const baseline = await runJsonChild<Baseline>(['bench/embeddings/in-process.ts', JSON.stringify({ seconds: SECONDS })]);
const best = baseline.results.reduce((a, b) => (b.textsPerSecond > a.textsPerSecond ? b : a));
const batch1 = baseline.results.find((r) => r.batchSize === 1);

const repo = await buildRepo();
const server = await startServerProcess(['src/cli/main.ts', 'serve', '--repository', repo, '--host', '127.0.0.1', '--port', '0'], { LOG_LEVEL: 'info' });
const report: Record<string, unknown> = { baseline, seconds: SECONDS, reps: REPS };
try {
  // Warm-up: traffic at the highest concurrency before anything is measured.
  await load(server, 'text-embedding', short, 64, 0, [], WARMUP_SECONDS);
  const served: Record<number, Repeated> = {};
  // Concurrency 1 is compared with in-process batch 1 run right after each rep (seconds apart, not
  // minutes): on a shared machine the compute time of one batch drifts by more than the 2 ms target.
  const adjacentBatch1: number[] = [];
  const batch1After = async () => {
    const r = await runJsonChild<Baseline>(['bench/embeddings/in-process.ts', JSON.stringify({ seconds: SECONDS, batchSizes: [1] })]);
    adjacentBatch1.push(r.results[0]!.p50BatchMs);
  };
  // Likewise concurrency 64 against in-process TF.js at its best batch size, measured right after each rep.
  const adjacentBest: number[] = [];
  const bestAfter = async () => {
    const r = await runJsonChild<Baseline>(['bench/embeddings/in-process.ts', JSON.stringify({ seconds: SECONDS, batchSizes: [best.batchSize] })]);
    adjacentBest.push(r.results[0]!.textsPerSecond);
  };
  for (const c of CONCURRENCY) {
    console.error(`served, concurrency ${c}`);
    // 2 s at this concurrency first: after a burst at another one, the first seconds still settle.
    await load(server, 'text-embedding', short, c, 0, [], 2);
    served[c] = await repeated(() => load(server, 'text-embedding', short, c), c === 1 ? batch1After : c === 64 ? bestAfter : undefined);
  }
  console.error('mixed lengths');
  const mixedRun = await repeated(() => load(server, 'text-embedding', mixed, 64));
  console.error('cache off / on');
  const cacheOff = await repeated(() => load(server, 'text-embedding', short, 64, 0.3, hot));
  const cacheOn = await repeated(() => load(server, 'text-embedding-cached', short, 64, 0.3, hot));
  console.error('padding, mixed lengths, padded encoder');
  const padded = await repeated(() => load(server, 'mini-encoder', wordpieceText(4), 64));
  const computed = await metric(server.url, 'modelplane_embedding_computed_tokens_total', 'mini-encoder');
  const padding = await metric(server.url, 'modelplane_embedding_padding_tokens_total', 'mini-encoder');
  Object.assign(report, { served, adjacentBatch1, adjacentBest, mixedRun, cacheOff, cacheOn, padded, computed, padding });

  const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
  const lines = [
    `In-process TF.js (wasm), by batch size: ${baseline.results.map((r) => `${r.batchSize}: ${r.textsPerSecond.toFixed(0)} texts/s, batch p50 ${r.p50BatchMs.toFixed(1)} ms, ${r.cpuMsPerText.toFixed(1)} CPU ms/text`).join('; ')}; best batch size ${best.batchSize}.`,
    '',
    '| scenario | served texts/s (runs) | p50 ms (runs) | vs in-process best (throughput) | server CPU ms/text | in-process best CPU ms/text ÷ served | load generator CPU ms/request |',
    '|---|---|---|---|---|---|---|',
    ...[
      ...CONCURRENCY.map((c) => [`single sentence, concurrency ${c}`, served[c]!] as const),
      ['mixed lengths 3-60 words, concurrency 64', mixedRun] as const,
      ['cache off, 30% repeats, concurrency 64', cacheOff] as const,
      ['cache on, 30% repeats, concurrency 64', cacheOn] as const,
      ['padded encoder (generated, hidden 64), mixed lengths, concurrency 64', padded] as const,
    ].map(([name, r]) => `| ${name} | ${r.perSecond.toFixed(0)} (${r.runs.join(', ')}) | ${r.p50Ms.toFixed(1)} (${r.p50Runs.join(', ')}) | ${name.startsWith('padded') ? '—' : pct(r.perSecond / best.textsPerSecond)} | ${r.cpuMsPerText.toFixed(1)} | ${name.startsWith('padded') ? '—' : pct(best.cpuMsPerText / r.cpuMsPerText)} | ${r.loadgenCpuMsPerRequest.toFixed(2)} |`),
    '',
    `Concurrency 1 p50 ${served[CONCURRENCY[0]!]?.p50Ms.toFixed(1)} ms vs in-process batch-1 p50 ${batch1?.p50BatchMs.toFixed(1)} ms at the start of the run` +
      (adjacentBatch1.length ? `, ${median(adjacentBatch1).toFixed(1)} ms (${adjacentBatch1.map((x) => x.toFixed(1)).join(', ')}) right after each concurrency-1 rep.` : '.'),
    ...(served[64] && adjacentBest.length
      ? [`Concurrency 64 against in-process batch ${best.batchSize} measured right after each rep: ${pct(median(served[64].runs.map((r, i) => r / adjacentBest[i]!)))} median ` +
        `(reps: ${served[64].runs.map((r, i) => `${r} vs ${adjacentBest[i]!.toFixed(0)} = ${pct(r / adjacentBest[i]!)}`).join('; ')}).`]
      : []),
    `Padding waste on the padded encoder: ${padding} of ${computed} computed token positions (${pct(padding / computed)}).`,
  ];
  console.log(lines.join('\n'));
  await mkdir('bench/results', { recursive: true });
  await writeFile('bench/results/embeddings.json', JSON.stringify(report, null, 2));
} finally {
  await server.stop();
  await rm(repo, { recursive: true, force: true });
}
