import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import { compileFilter, type PayloadFilter } from './payload-filter.js';

/** One stored document; `label` is the vector index key of its current version. */
export interface StoredDocument {
  readonly label: number;
  readonly id: string;
  readonly text: string | null;
  readonly payload: Record<string, unknown>;
  readonly vector: Float32Array;
}

export interface DocumentWrite {
  readonly id: string;
  readonly text: string | null;
  readonly payload: Record<string, unknown>;
  readonly vector: Float32Array;
}

interface Row {
  label: number;
  id: string;
  text: string | null;
  payload: string;
  vector: Buffer;
}

/**
 * One collection's documents in one SQLite file: the log of record. Every write is one transaction and is
 * committed (WAL, synchronous=FULL) before the caller acknowledges it; the in-memory indexes are derived
 * from this file and rebuilt from it at start, so a kill -9 loses nothing acknowledged.
 *
 *   docs(label PK AUTOINCREMENT, id UNIQUE, text, payload JSON, vector BLOB float32)
 *   docs_fts(text)   FTS5, external content = docs, rowid = label, kept in step by triggers (BM25)
 *   removed(seq, label)   labels removed since the last index checkpoint, replayed onto a saved index at start
 *
 * An upsert deletes the old row and inserts a new one: a fresh `label` per version, never reused, so the
 * vector index can add the new version before the old one's removal is applied.
 */
export class CollectionStore {
  readonly #db: Db;
  readonly #insert: Statement<[string, string | null, string, Buffer]>;
  readonly #deleteById: Statement<[string], { label: number }>;
  readonly #byId: Statement<[string], Row>;
  readonly #byLabel: Statement<[number], Row>;

  constructor(readonly path: string) {
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = FULL');
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS docs (
        label INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        text TEXT,
        payload TEXT NOT NULL,
        vector BLOB NOT NULL
      );
      CREATE TABLE IF NOT EXISTS removed (seq INTEGER PRIMARY KEY AUTOINCREMENT, label INTEGER NOT NULL);
      CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5(text, content='docs', content_rowid='label', tokenize='porter unicode61 remove_diacritics 2');
      CREATE TRIGGER IF NOT EXISTS docs_ai AFTER INSERT ON docs WHEN new.text IS NOT NULL BEGIN
        INSERT INTO docs_fts(rowid, text) VALUES (new.label, new.text);
      END;
      CREATE TRIGGER IF NOT EXISTS docs_ad AFTER DELETE ON docs WHEN old.text IS NOT NULL BEGIN
        INSERT INTO docs_fts(docs_fts, rowid, text) VALUES ('delete', old.label, old.text);
      END;
      CREATE TRIGGER IF NOT EXISTS docs_removed AFTER DELETE ON docs BEGIN
        INSERT INTO removed(label) VALUES (old.label);
      END;
    `);
    this.#insert = this.#db.prepare('INSERT INTO docs (id, text, payload, vector) VALUES (?, ?, ?, ?)');
    this.#deleteById = this.#db.prepare('DELETE FROM docs WHERE id = ? RETURNING label');
    this.#byId = this.#db.prepare('SELECT label, id, text, payload, vector FROM docs WHERE id = ?');
    this.#byLabel = this.#db.prepare('SELECT label, id, text, payload, vector FROM docs WHERE label = ?');
  }

  getMeta(key: string): string | undefined {
    return (this.#db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.#db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  /**
   * Upserts documents in one transaction. Returns, per document, the label it replaced (or null) and its new label.
   * Committed (durable) when this returns.
   */
  upsert(docs: readonly DocumentWrite[]): { removed: number[]; added: { label: number; id: string }[] } {
    const removed: number[] = [];
    const added: { label: number; id: string }[] = [];
    this.#db.transaction(() => {
      for (const d of docs) {
        const old = this.#deleteById.get(d.id);
        if (old) removed.push(old.label);
        const buf = Buffer.from(d.vector.buffer, d.vector.byteOffset, d.vector.byteLength);
        const r = this.#insert.run(d.id, d.text, JSON.stringify(d.payload), buf);
        added.push({ label: Number(r.lastInsertRowid), id: d.id });
      }
    })();
    return { removed, added };
  }

  /** Deletes documents by id in one transaction; returns the labels removed (unknown ids are skipped). */
  delete(ids: readonly string[]): number[] {
    const removed: number[] = [];
    this.#db.transaction(() => {
      for (const id of ids) {
        const old = this.#deleteById.get(id);
        if (old) removed.push(old.label);
      }
    })();
    return removed;
  }

  get(id: string): StoredDocument | undefined {
    const r = this.#byId.get(id);
    return r ? toDocument(r) : undefined;
  }

  byLabel(label: number): StoredDocument | undefined {
    const r = this.#byLabel.get(label);
    return r ? toDocument(r) : undefined;
  }

  count(): number {
    return (this.#db.prepare('SELECT count(*) AS n FROM docs').get() as { n: number }).n;
  }

  /** Labels and vectors of documents with a label above `afterLabel`, in label order (rebuilding or replaying the index). */
  *vectors(afterLabel = 0): Generator<{ label: number; vector: Float32Array }> {
    const it = this.#db.prepare('SELECT label, vector FROM docs WHERE label > ? ORDER BY label').iterate(afterLabel) as IterableIterator<{ label: number; vector: Buffer }>;
    for (const r of it) yield { label: r.label, vector: blobToVector(r.vector) };
  }

  /** Where the log stands: the highest label ever given and the last removal recorded. */
  position(): { maxLabel: number; removedSeq: number } {
    const maxLabel = (this.#db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'docs'").get() as { seq: number } | undefined)?.seq ?? 0;
    const removedSeq = (this.#db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'removed'").get() as { seq: number } | undefined)?.seq ?? 0;
    return { maxLabel, removedSeq };
  }

  /** Labels removed after removal `afterSeq`. */
  removedSince(afterSeq: number): number[] {
    return (this.#db.prepare('SELECT label FROM removed WHERE seq > ? ORDER BY seq').all(afterSeq) as { label: number }[]).map((r) => r.label);
  }

  /** Forgets removals up to `seq` (a checkpoint of the index includes them). */
  pruneRemoved(seq: number): void {
    this.#db.prepare('DELETE FROM removed WHERE seq <= ?').run(seq);
  }

  /** Labels of documents whose payload matches the filter, with their vectors (for exact filtered search). */
  matching(filter: PayloadFilter, limit: number): { label: number; vector: Float32Array }[] {
    const f = compileFilter(filter);
    const rows = this.#db.prepare(`SELECT label, vector FROM docs WHERE ${f.where} LIMIT ?`).all(...f.params, limit) as { label: number; vector: Buffer }[];
    return rows.map((r) => ({ label: r.label, vector: blobToVector(r.vector) }));
  }

  /** How many documents match the filter, counting no further than `cap`. */
  countMatching(filter: PayloadFilter, cap: number): number {
    const f = compileFilter(filter);
    return (this.#db.prepare(`SELECT count(*) AS n FROM (SELECT 1 FROM docs WHERE ${f.where} LIMIT ?)`).get(...f.params, cap) as { n: number }).n;
  }

  /** Whether each label's payload matches the filter. */
  labelsMatching(filter: PayloadFilter, labels: readonly number[]): Set<number> {
    if (labels.length === 0) return new Set();
    const f = compileFilter(filter);
    const rows = this.#db
      .prepare(`SELECT label FROM docs WHERE label IN (SELECT value FROM json_each(?)) AND ${f.where}`)
      .all(JSON.stringify(labels), ...f.params) as { label: number }[];
    return new Set(rows.map((r) => r.label));
  }

  /** BM25 over the text (FTS5; lower bm25() is better, so the score is its negation), filtered, best first. */
  textSearch(query: string, k: number, filter: PayloadFilter | undefined): { label: number; score: number }[] {
    const match = ftsQuery(query);
    if (match === '') return [];
    const f = filter ? compileFilter(filter, 'd.payload') : { where: '1', params: [] };
    const rows = this.#db
      .prepare(`SELECT d.label AS label, -bm25(docs_fts) AS score FROM docs_fts JOIN docs d ON d.label = docs_fts.rowid
                WHERE docs_fts MATCH ? AND ${f.where} ORDER BY bm25(docs_fts) LIMIT ?`)
      .all(match, ...f.params, k) as { label: number; score: number }[];
    return rows;
  }

  /** A consistent copy of the whole collection into `dest` (VACUUM INTO: readers and writers may go on). */
  snapshot(dest: string): void {
    this.#db.prepare('VACUUM INTO ?').run(dest);
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}

/** Free text to an FTS5 query: every word token, quoted, OR-ed (BM25 ranks by how many and how rare). */
export function ftsQuery(text: string): string {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return [...new Set(words)].slice(0, 64).map((w) => `"${w}"`).join(' OR ');
}

function blobToVector(b: Buffer): Float32Array {
  // Copy: the blob's bytes may not be 4-aligned and belong to SQLite's row buffer.
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

function toDocument(r: Row): StoredDocument {
  return { label: r.label, id: r.id, text: r.text, payload: JSON.parse(r.payload) as Record<string, unknown>, vector: blobToVector(r.vector) };
}
