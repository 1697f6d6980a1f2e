/**
 * Vector search: recall@10 against exact search, queries/s on one core, build time and memory, for the
 * HNSW index collections use (hnswlib-node) and for usearch, over clustered 512-d unit vectors (real sentence
 * embeddings cluster by topic; uniform random vectors are an unrealistically hard case for any graph index).
 *
 *   npx tsx bench/search/ann.ts [vectors=10000] [queries=200] [--usearch]
 *
 * Prints one JSON line per configuration. Single-threaded: one search at a time on the event loop thread.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import usearch from 'usearch';
import { HnswIndex, exactSearch } from '../../src/search/vector-index.js';
import { normalise } from '../../src/search/text-embedder.js';

const N = Number(process.argv[2] ?? 10_000);
const Q = Number(process.argv[3] ?? 200);
const withUsearch = process.argv.includes('--usearch');
const D = 512;
const CLUSTERS = Math.max(20, Math.round(N / 500));

let seed = 12345;
const rnd = (): number => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const centres = Array.from({ length: CLUSTERS }, () => Float32Array.from({ length: D }, () => rnd() - 0.5));
const sample = (): Float32Array => {
  const c = centres[Math.floor(rnd() * CLUSTERS)]!;
  return normalise(Float32Array.from(c, (x) => x + (rnd() - 0.5) * 0.9));
};
const data = Array.from({ length: N }, sample);
const queries = Array.from({ length: Q }, sample);

const t0 = performance.now();
const truth = queries.map((q) => new Set(exactSearch('cosine', q, data.map((vector, label) => ({ label, vector })), 10).map((n) => n.label)));
const exactQps = Q / ((performance.now() - t0) / 1000);
console.log(JSON.stringify({ index: 'exact (brute force)', vectors: N, qps: Math.round(exactQps), recallAt10: 1 }));

const rss0 = process.memoryUsage().rss;
const t1 = performance.now();
const index = new HnswIndex(D, 'cosine', { m: 16, efConstruction: 128, efSearch: 64 });
data.forEach((v, i) => index.add(i, v));
const buildS = (performance.now() - t1) / 1000;
const memMb = (process.memoryUsage().rss - rss0) / 1024 / 1024;
for (const ef of [32, 64, 128, 256]) {
  for (const q of queries.slice(0, 20)) index.search(q, 10, ef); // warm-up
  const t = performance.now();
  let hit = 0;
  for (let i = 0; i < Q; i++) for (const n of index.search(queries[i]!, 10, ef)) if (truth[i]!.has(n.label)) hit++;
  const s = (performance.now() - t) / 1000;
  console.log(JSON.stringify({ index: 'hnswlib-node (collections)', vectors: N, m: 16, efConstruction: 128, efSearch: ef, buildSeconds: Number(buildS.toFixed(1)), memoryMb: Math.round(memMb), qps: Math.round(Q / s), recallAt10: Number((hit / (Q * 10)).toFixed(4)) }));
}

// Restart from a checkpoint: save the graph, load it back (what a collection does at close and at start).
const dir = mkdtempSync(join(tmpdir(), 'mp-ann-'));
const t3 = performance.now();
index.save(join(dir, 'index.hnsw'));
const saveS = (performance.now() - t3) / 1000;
const t4 = performance.now();
const loaded = new HnswIndex(D, 'cosine', { m: 16, efConstruction: 128, efSearch: 64 }, { file: join(dir, 'index.hnsw'), ...index.counts });
const loadS = (performance.now() - t4) / 1000;
let same = 0;
for (let i = 0; i < 20; i++) if (loaded.search(queries[i]!, 10)[0]!.label === index.search(queries[i]!, 10)[0]!.label) same++;
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({ index: 'hnswlib-node checkpoint', vectors: N, saveSeconds: Number(saveS.toFixed(2)), loadSeconds: Number(loadS.toFixed(2)), sameTop1Of20: same }));

if (withUsearch) {
  const flat = new Float32Array(N * D);
  data.forEach((v, i) => flat.set(v, i * D));
  const t2 = performance.now();
  const u = new usearch.Index({ dimensions: D, metric: usearch.MetricKind.Cos, quantization: usearch.ScalarKind.F32, connectivity: 16, expansion_add: 128, expansion_search: 64, multi: false });
  u.add(BigUint64Array.from({ length: N }, (_, i) => BigInt(i)), flat, 1);
  const ub = (performance.now() - t2) / 1000;
  const t = performance.now();
  let hit = 0;
  for (let i = 0; i < Q; i++) for (const k of u.search(queries[i]!, 10, 1).keys) if (truth[i]!.has(Number(k))) hit++;
  const s = (performance.now() - t) / 1000;
  console.log(JSON.stringify({ index: 'usearch', vectors: N, connectivity: 16, expansionAdd: 128, expansionSearch: 64, buildSeconds: Number(ub.toFixed(1)), qps: Math.round(Q / s), recallAt10: Number((hit / (Q * 10)).toFixed(4)) }));
}
