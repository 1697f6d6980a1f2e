import hnswlib from 'hnswlib-node';
import type { Metric } from './collection-schema.js';

export interface Neighbour {
  readonly label: number;
  /** Higher is closer: cosine or inner-product similarity, or the negated squared L2 distance. */
  readonly score: number;
}

export interface HnswParams {
  readonly m: number;
  readonly efConstruction: number;
  readonly efSearch: number;
}

const INITIAL_CAPACITY = 1024;

/**
 * Approximate nearest neighbours over integer labels: hnswlib (HNSW graph, in memory), chosen over usearch in
 * bench/search/ann-quick.mjs for its per-query `ef` and its in-graph label filter at equal speed and recall.
 * Cosine is inner product over vectors normalised on the way in. Labels are never reused (see CollectionStore),
 * so a removed label is only marked deleted and its slot reused later (`allowReplaceDeleted`).
 * Not safe for concurrent use from several threads; Node calls it from one.
 */
export class HnswIndex {
  readonly #index: hnswlib.HierarchicalNSW;
  readonly #metric: Metric;
  readonly #efSearch: number;
  #capacity = INITIAL_CAPACITY;
  #live = 0;
  #deleted = 0;
  #ef = -1;
  readonly #scratch: number[];

  /** A new empty index, or (with `from`) the index saved in that file with the counts it was saved with. */
  constructor(readonly dimension: number, metric: Metric, params: HnswParams, from?: { file: string; live: number; deleted: number }) {
    this.#metric = metric;
    this.#efSearch = params.efSearch;
    this.#index = new hnswlib.HierarchicalNSW(metric === 'l2' ? 'l2' : 'ip', dimension);
    if (from) {
      this.#index.readIndexSync(from.file, true);
      this.#capacity = this.#index.getMaxElements();
      this.#live = from.live;
      this.#deleted = from.deleted;
    } else {
      this.#index.initIndex({ maxElements: this.#capacity, m: params.m, efConstruction: params.efConstruction, randomSeed: 100, allowReplaceDeleted: true });
    }
    this.#scratch = new Array<number>(dimension).fill(0);
  }

  /** Live and marked-deleted element counts, saved with the index so that loading restores them. */
  get counts(): { live: number; deleted: number } {
    return { live: this.#live, deleted: this.#deleted };
  }

  /** Writes the whole graph to `file` (synchronous: the caller decides when the pause is acceptable). */
  save(file: string): void {
    this.#index.writeIndexSync(file);
  }

  get size(): number {
    return this.#live;
  }

  /** Adds a vector (already normalised for cosine) under a label not present in the index. */
  add(label: number, vector: Float32Array): void {
    if (this.#deleted === 0 && this.#live >= this.#capacity) {
      this.#capacity *= 2;
      this.#index.resizeIndex(this.#capacity);
    }
    this.#index.addPoint(this.#toArray(vector), label, this.#deleted > 0);
    if (this.#deleted > 0) this.#deleted--;
    this.#live++;
  }

  remove(label: number): void {
    this.#index.markDelete(label);
    this.#live--;
    this.#deleted++;
  }

  /** The k nearest labels, best first; `accept` restricts the walk's results to labels it returns true for. */
  search(query: Float32Array, k: number, ef?: number, accept?: (label: number) => boolean): Neighbour[] {
    if (this.#live === 0) return [];
    const want = Math.max(ef ?? this.#efSearch, k);
    if (want !== this.#ef) {
      this.#index.setEf(want);
      this.#ef = want;
    }
    const r = this.#index.searchKnn(this.#toArray(query), Math.min(k, this.#live), accept);
    const out: Neighbour[] = new Array<Neighbour>(r.neighbors.length);
    for (let i = 0; i < r.neighbors.length; i++) out[i] = { label: r.neighbors[i]!, score: this.#score(r.distances[i]!) };
    return out;
  }

  #score(distance: number): number {
    // hnswlib's 'ip' space answers 1 - dot; 'l2' the squared distance.
    return this.#metric === 'l2' ? -distance : 1 - distance;
  }

  #toArray(v: Float32Array): number[] {
    const a = this.#scratch;
    for (let i = 0; i < a.length; i++) a[i] = v[i]!;
    return a;
  }
}

/** Exact similarity of `a` and `b` under a metric, on the same scale as `Neighbour.score`. */
export function similarity(metric: Metric, a: Float32Array, b: Float32Array): number {
  let s = 0;
  if (metric === 'l2') {
    for (let i = 0; i < a.length; i++) {
      const d = a[i]! - b[i]!;
      s += d * d;
    }
    return -s;
  }
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Exact k nearest among `candidates`, best first (brute force: for small filtered sets and for recall baselines). */
export function exactSearch(metric: Metric, query: Float32Array, candidates: Iterable<{ label: number; vector: Float32Array }>, k: number): Neighbour[] {
  const top: Neighbour[] = [];
  for (const c of candidates) {
    const score = similarity(metric, query, c.vector);
    if (top.length < k) {
      top.push({ label: c.label, score });
      if (top.length === k) top.sort((x, y) => y.score - x.score);
    } else if (score > top[k - 1]!.score) {
      let i = k - 1;
      while (i > 0 && top[i - 1]!.score < score) {
        top[i] = top[i - 1]!;
        i--;
      }
      top[i] = { label: c.label, score };
    }
  }
  return top.length < k ? top.sort((x, y) => y.score - x.score) : top;
}
