/** One cached answer: the full-size vector exactly as computed, and the text's token count. */
export interface CachedEmbedding {
  readonly vector: Float32Array;
  readonly tokens: number;
}

/** Bookkeeping bytes per entry beyond its key and vector (Map slot, object headers). */
const ENTRY_OVERHEAD_BYTES = 96;

/**
 * A per-version response cache for text embeddings (Triton's response_cache, per text): keyed by the
 * exact input bytes and the truncation in force, bounded in bytes, least recently used evicted first.
 * It lives and dies with its model version, so an unloaded version's answers are never served.
 * A Map keeps insertion order: a hit is re-inserted at the end, eviction takes from the front.
 */
export class EmbeddingCache {
  private readonly entries = new Map<string, CachedEmbedding>();
  bytes = 0;
  hits = 0;
  misses = 0;
  evictions = 0;

  constructor(readonly maxBytes: number) {}

  /** The key of one input: its bytes one-to-one as latin1 characters, after a truncation flag. */
  static key(item: Uint8Array, truncate: boolean): string {
    return (truncate ? 't' : 'e') + Buffer.from(item.buffer, item.byteOffset, item.byteLength).toString('latin1');
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): CachedEmbedding | undefined {
    const found = this.entries.get(key);
    if (!found) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, found);
    return found;
  }

  set(key: string, value: CachedEmbedding): void {
    const cost = entryBytes(key, value);
    if (cost > this.maxBytes) return;
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.bytes -= entryBytes(key, old);
    }
    this.entries.set(key, value);
    this.bytes += cost;
    for (const [k, v] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= entryBytes(k, v);
      this.evictions++;
    }
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}

function entryBytes(key: string, value: CachedEmbedding): number {
  return key.length + value.vector.byteLength + ENTRY_OVERHEAD_BYTES;
}
