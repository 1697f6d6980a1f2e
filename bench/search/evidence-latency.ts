/**
 * Evidence linking latency: a ~5,000-word transcript (dev-set conversations concatenated, real turns) and a
 * 20-sentence note, in a fresh process. Reports the model load, the first (cold: nothing cached) call and
 * warm calls (same transcript: its embeddings are cached), plus a call with the same transcript and a
 * different note (what an editor re-checking a note does).
 *
 * CPU time is the whole process's (every thread: process.cpuUsage is getrusage(RUSAGE_SELF)), so
 * `coldCpuMs` > `coldMs` means more than one core was busy; on a shared machine it is the steadier figure.
 *
 *   npx tsx bench/search/evidence-latency.ts [words=5000] [sentences=20] [warmRuns=5] [threads=min(2, cores)]
 */
import { EvidenceLinker } from '../../src/search/evidence/evidence-linker.js';
import { UseLiteEmbedder } from '../../src/search/use-lite-embedder.js';
import { loadDevSet } from '../../scripts/evidence/dev-set.js';

const WORDS = Number(process.argv[2] ?? 5000);
const SENTENCES = Number(process.argv[3] ?? 20);
const WARM = Number(process.argv[4] ?? 5);
const THREADS = process.argv[5] === undefined ? undefined : Number(process.argv[5]);

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

const embedder = new UseLiteEmbedder({ threads: THREADS });
let t = performance.now();
await embedder.load();
const loadMs = performance.now() - t;
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
  threads: embedder.threads,
  transcriptWords: words,
  segments: cold.segments.length,
  noteSentences: cold.sentences.length,
  modelLoadMs: Math.round(loadMs),
  coldMs: Math.round(coldMs),
  coldCpuMs: Math.round((coldCpu.user + coldCpu.system) / 1000),
  coldEmbedMs: Math.round(cold.timing.embedMs),
  warmMedianMs: Math.round(warm[Math.floor(warm.length / 2)]!),
  sameTranscriptNewNoteMs: Math.round(newNoteMs),
}));
await embedder.close();
