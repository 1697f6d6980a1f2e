import { MpError } from '../errors.js';
import type { CreateCollection, DocumentInput, Metric, SearchRequest } from './collection-schema.js';
import type { CollectionStore, StoredDocument } from './collection-store.js';
import type { PayloadFilter } from './payload-filter.js';
import { reciprocalRankFusion } from './rank-fusion.js';
import { normalise, type TextEmbedder } from './text-embedder.js';
import { openIndex, writeCheckpoint } from './index-checkpoint.js';
import { exactSearch, type HnswIndex, type Neighbour } from './vector-index.js';

/** What a collection was created with; stored in its SQLite file. */
export interface CollectionInfo {
  readonly name: string;
  readonly model: string | null;
  readonly dimension: number;
  readonly metric: Metric;
  readonly hnsw: CreateCollection['hnsw'];
}

export interface SearchHit {
  readonly id: string;
  /** Similarity (vector), BM25 (text) or fused RRF score (hybrid); higher is better. */
  readonly score: number;
  readonly payload?: Record<string, unknown>;
  readonly text?: string | null;
}

/** Filtered vector searches whose filter matches at most this many documents are answered exactly. */
const EXACT_FILTER_LIMIT = 4096;
/** Texts per embedder call. */
const EMBED_BATCH = 32;
/** A collection rebuilt from this many documents saves its index at once, so the next restart need not rebuild. */
const CHECKPOINT_AFTER_REBUILD = 10_000;

/**
 * A collection: its SQLite store (the record) plus the in-memory HNSW index derived from it. Writes commit to
 * SQLite first and only then touch the index, so the index never holds what the store does not; at open the
 * index is rebuilt from the store.
 */
export class Collection {
  readonly #index: HnswIndex;
  /** How the index was opened: from a checkpoint plus `replayed` log entries, or rebuilt from `replayed` documents. */
  readonly opened: { from: 'checkpoint' | 'rebuild'; replayed: number };
  #dirty = false;

  constructor(readonly info: CollectionInfo, readonly store: CollectionStore, readonly embedder: TextEmbedder | null, readonly indexDir: string) {
    const { index, from, replayed } = openIndex(info, store, indexDir);
    this.#index = index;
    this.opened = { from, replayed };
    this.#dirty = replayed > 0;
    if (from === 'rebuild' && replayed >= CHECKPOINT_AFTER_REBUILD) this.checkpoint();
  }

  /** Saves the index if it changed since it was last saved or loaded (at close; blocks for the write). */
  checkpoint(): void {
    if (!this.#dirty) return;
    writeCheckpoint(this.indexDir, this.#index, this.store);
    this.#dirty = false;
  }

  /** Checkpoints the index and closes the store. */
  close(): void {
    this.checkpoint();
    this.store.close();
  }

  get size(): number {
    return this.#index.size;
  }

  /** Embeds the texts of documents that came without a vector, checks dimensions, and commits. Returns the count. */
  async upsert(docs: readonly DocumentInput[]): Promise<number> {
    const vectors = await this.#vectorsFor(docs);
    const { removed, added } = this.store.upsert(docs.map((d, i) => ({ id: d.id, text: d.text ?? null, payload: d.payload ?? {}, vector: vectors[i]! })));
    // The new versions go in before the old ones leave: a concurrent search never sees neither.
    added.forEach((a, i) => this.#index.add(a.label, vectors[i]!));
    for (const label of removed) this.#index.remove(label);
    this.#dirty = true;
    return added.length;
  }

  delete(ids: readonly string[]): number {
    const removed = this.store.delete(ids);
    for (const label of removed) this.#index.remove(label);
    if (removed.length > 0) this.#dirty = true;
    return removed.length;
  }

  get(id: string): StoredDocument | undefined {
    return this.store.get(id);
  }

  async search(req: SearchRequest): Promise<SearchHit[]> {
    const mode = req.mode ?? (req.vector !== undefined || this.embedder !== null ? 'vector' : 'text');
    if (mode === 'text' && req.text === undefined) throw new MpError('MP_INVALID_ARG', `collection '${this.info.name}': mode 'text' needs 'text'`);
    let ranked: { label: number; score: number }[];
    if (mode === 'text') {
      ranked = this.store.textSearch(req.text!, req.k, req.filter);
    } else {
      const query = await this.#queryVector(req);
      if (mode === 'vector') {
        ranked = this.vectorSearch(query, req.k, req.filter, req.efSearch);
      } else {
        // Each list is deeper than k so that a document ranked modestly by both can win the fusion.
        const depth = Math.max(req.k * 4, 50);
        const byVector = this.vectorSearch(query, depth, req.filter, req.efSearch).map((n) => n.label);
        const byText = req.text !== undefined ? this.store.textSearch(req.text, depth, req.filter).map((n) => n.label) : [];
        ranked = reciprocalRankFusion([{ labels: byVector, weight: req.weights.vector }, { labels: byText, weight: req.weights.text }], req.rrfK).slice(0, req.k);
      }
    }
    const hits: SearchHit[] = [];
    for (const r of ranked) {
      const doc = this.store.byLabel(r.label);
      if (!doc) continue; // deleted between ranking and reading
      hits.push({ id: doc.id, score: r.score, ...(req.withPayload ? { payload: doc.payload } : {}), ...(req.withText ? { text: doc.text } : {}) });
    }
    return hits;
  }

  /**
   * k nearest under a payload filter. A selective filter (≤ EXACT_FILTER_LIMIT matches) is answered exactly
   * over the matching vectors; a broad one walks the graph deeper and keeps matching results, widening
   * until k match or the whole collection was considered.
   */
  vectorSearch(query: Float32Array, k: number, filter?: PayloadFilter, ef?: number): Neighbour[] {
    if (!filter || Object.keys(filter).length === 0) return this.#index.search(query, k, ef);
    if (this.store.countMatching(filter, EXACT_FILTER_LIMIT + 1) <= EXACT_FILTER_LIMIT) {
      return exactSearch(this.info.metric, query, this.store.matching(filter, EXACT_FILTER_LIMIT), k);
    }
    for (let want = k * 4; ; want *= 4) {
      const found = this.#index.search(query, Math.min(want, this.size), Math.max(ef ?? 0, want));
      const ok = this.store.labelsMatching(filter, found.map((n) => n.label));
      const hits = found.filter((n) => ok.has(n.label));
      if (hits.length >= k || want >= this.size) return hits.slice(0, k);
    }
  }

  async #queryVector(req: SearchRequest): Promise<Float32Array> {
    if (req.vector !== undefined) return this.#checked(req.vector, 'vector');
    if (!this.embedder) throw new MpError('MP_INVALID_ARG', `collection '${this.info.name}' has no embedding model: search with 'vector' or mode 'text'`);
    const [v] = await this.embedder.embed([req.text!]);
    return this.#checked(v!, 'text');
  }

  async #vectorsFor(docs: readonly DocumentInput[]): Promise<Float32Array[]> {
    const out = new Array<Float32Array>(docs.length);
    const toEmbed: number[] = [];
    docs.forEach((d, i) => {
      if (d.vector !== undefined) out[i] = this.#checked(d.vector, `documents.${i}.vector`);
      else toEmbed.push(i);
    });
    if (toEmbed.length > 0) {
      if (!this.embedder) {
        throw new MpError('MP_INVALID_ARG', `collection '${this.info.name}' has no embedding model: documents.${toEmbed[0]} needs a 'vector'`);
      }
      for (let s = 0; s < toEmbed.length; s += EMBED_BATCH) {
        const idx = toEmbed.slice(s, s + EMBED_BATCH);
        const vs = await this.embedder.embed(idx.map((i) => docs[i]!.text!));
        idx.forEach((docIndex, j) => (out[docIndex] = this.#checked(vs[j]!, `documents.${docIndex}.text`)));
      }
    }
    return out;
  }

  #checked(v: ArrayLike<number>, field: string): Float32Array {
    if (v.length !== this.info.dimension) {
      throw new MpError('MP_INVALID_ARG', `collection '${this.info.name}': ${field} has dimension ${v.length}, expected ${this.info.dimension}`);
    }
    const f = Float32Array.from(v);
    for (let i = 0; i < f.length; i++) {
      if (!Number.isFinite(f[i])) throw new MpError('MP_INVALID_ARG', `collection '${this.info.name}': ${field}[${i}] is not a finite number`);
    }
    return this.info.metric === 'cosine' ? normalise(f) : f;
  }
}
