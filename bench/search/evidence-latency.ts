/**
 * Evidence linking latency: a ~5,000-word transcript (dev-set conversations concatenated, real turns) and a
 * 20-sentence note, in a fresh process. Reports the model load, the first (cold: nothing cached) call and
 * warm calls (same transcript: its embeddings are cached), plus a call with the same transcript and a
 * different note (what an editor re-checking a note does).
 *
 * CPU time is the whole process's (every thread: process.cpuUsage is getrusage(RUSAGE_SELF)), so
 * `coldCpuMs` > `coldMs` means more than one core was busy; on a shared machine it is the steadier figure.
 *
 * The last argument picks the embedder: a number is in-process USE-lite with that many threads; `served` is the
 * served `text-embedding` model of examples/models (run `npm run prepare:examples` first) through its scheduler,
 * as the server links evidence when that model is loaded. Its "model load" is the app's start.
 *
 *   npx tsx bench/search/evidence-latency.ts [words=5000] [sentences=20] [warmRuns=5] [threads=min(2, cores) | served]
 */
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp } from '../../src/app.js';
import { EvidenceLinker } from '../../src/search/evidence/evidence-linker.js';
import { servedTextEmbedders } from '../../src/search/serving-text-embedder.js';
import type { TextEmbedder } from '../../src/search/text-embedder.js';
import { UseLiteEmbedder, type UseLiteLoadInfo } from '../../src/search/use-lite-embedder.js';
import { loadDevSet } from '../../scripts/evidence/dev-set.js';

const WORDS = Number(process.argv[2] ?? 5000);
const SENTENCES = Number(process.argv[3] ?? 20);
const WARM = Number(process.argv[4] ?? 5);
const SERVED = process.argv[5] === 'served';
const THREADS = process.argv[5] === undefined || SERVED ? undefined : Number(process.argv[5]);

const set = loadDevSet();
const lines: string[] = [];
const summary: string[] = [];
let words = 0;
for (let round = 0; words < WORDS; round++) {
  for (const conv of set) {
    if (words >= WORDS) break;
    for (const line of conv.transcript.split('\n')) {
      if (words >= WORDS) break;
      // Later rounds vary the text so the cache cannot help the cold call.
      lines.push(round === 0 ? line : `${line} (part ${round + 1})`);
      words += line.split(/\s+/).length;
    }
    summary.push(...conv.sentences.map((s) => s.text));
  }
}
const note = summary.slice(0, SENTENCES).join(' ');
const otherNote = summary.slice(SENTENCES, 2 * SENTENCES).join(' ');
const request = { source: { text: lines.join('\n') }, summary: note };
let loadInfo: UseLiteLoadInfo | undefined;

const rss0 = process.memoryUsage().rss;
let t = performance.now();
const { embedder, label, close } = SERVED ? await servedEmbedder() : await inProcess();
const loadMs = performance.now() - t;
const loadedRss = process.memoryUsage().rss;
const linker = new EvidenceLinker(embedder);
t = performance.now();
const cpu0 = process.cpuUsage();
const cold = await linker.link(request);
const coldMs = performance.now() - t;
const coldCpu = process.cpuUsage(cpu0);
const warm: number[] = [];
for (let i = 0; i < WARM; i++) {
  t = performance.now();
  await linker.link(request);
  warm.push(performance.now() - t);
}
t = performance.now();
await linker.link({ ...request, summary: otherNote });
const newNoteMs = performance.now() - t;
warm.sort((a, b) => a - b);
console.log(JSON.stringify({
  embedder: label,
  transcriptWords: words,
  segments: cold.segments.length,
  noteSentences: cold.sentences.length,
  modelLoadMs: Math.round(loadMs),
  ...(loadInfo ? { modelBuildMs: Math.round(loadInfo.buildMs), sessionCreateMs: Math.round(loadInfo.sessionMs) } : {}),
  // The process's RSS growth over the model load (the embedder's threads, sessions and weights), and after the calls.
  loadRssMb: Math.round((loadedRss - rss0) / 2 ** 20),
  endRssMb: Math.round((process.memoryUsage().rss - rss0) / 2 ** 20),
  coldMs: Math.round(coldMs),
  coldCpuMs: Math.round((coldCpu.user + coldCpu.system) / 1000),
  coldEmbedMs: Math.round(cold.timing.embedMs),
  warmMedianMs: Math.round(warm[Math.floor(warm.length / 2)]!),
  sameTranscriptNewNoteMs: Math.round(newNoteMs),
}));
await close();

async function inProcess(): Promise<{ embedder: TextEmbedder; label: string; close: () => Promise<void> }> {
  const e = new UseLiteEmbedder({ threads: THREADS, onLoad: (info) => (loadInfo = info) });
  await e.load();
  return { embedder: e, label: `use-lite, ${e.threads} thread(s)`, close: () => e.close() };
}

async function servedEmbedder(): Promise<{ embedder: TextEmbedder; label: string; close: () => Promise<void> }> {
  const repository = mkdtempSync(join(tmpdir(), 'mp-bench-repo-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'mp-bench-data-'));
  symlinkSync(join(import.meta.dirname, '../../examples/models/text-embedding'), join(repository, 'text-embedding'));
  const app = await startApp({ repository, host: '127.0.0.1', port: 0, bodyLimitBytes: 1 << 24, logger: false, search: { dataDir } });
  const served = servedTextEmbedders(app.manager).find((e) => e.model === 'text-embedding');
  if (!served) throw new Error(`text-embedding is not READY: ${JSON.stringify(app.models)}`);
  return {
    embedder: served,
    label: 'served text-embedding',
    close: async () => {
      await app.close();
      rmSync(repository, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
