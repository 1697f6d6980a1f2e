import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MpError } from '../errors.js';
import { Collection, type CollectionInfo, type SearchHit } from './collection.js';
import { COLLECTION_NAME, CreateCollectionSchema, DeleteSchema, parseInput, SearchSchema, UpsertSchema, type SearchInput } from './collection-schema.js';
import { CollectionStore, type StoredDocument } from './collection-store.js';
import type { TextEmbedder } from './text-embedder.js';

/** Embedding models by name; a collection created with `model` embeds its texts and text queries with it. */
export type EmbedderRegistry = ReadonlyMap<string, TextEmbedder>;

export interface SnapshotInfo {
  readonly collection: string;
  readonly snapshot: string;
  readonly bytes: number;
}

const CONFIG_KEY = 'collection';
const SNAPSHOT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/**
 * Every collection of a data directory: `<dataDir>/collections/<name>.sqlite` (the record) and
 * `<dataDir>/snapshots/<name>/<snapshot>.sqlite`. Opens them all at start (rebuilding each vector index),
 * validates every external input with zod, and throws MpError with the field at fault.
 * Methods are called from one event loop; writes to one collection are serialised by SQLite.
 */
export class CollectionManager {
  readonly #collections = new Map<string, Collection>();
  readonly #dir: string;
  readonly #snapshots: string;

  constructor(readonly dataDir: string, readonly embedders: EmbedderRegistry = new Map()) {
    this.#dir = join(dataDir, 'collections');
    this.#snapshots = join(dataDir, 'snapshots');
    mkdirSync(this.#dir, { recursive: true });
    for (const f of readdirSync(this.#dir)) {
      if (f.endsWith('.sqlite')) this.#open(f.slice(0, -'.sqlite'.length));
    }
  }

  create(raw: unknown): CollectionInfo {
    const c = parseInput(CreateCollectionSchema, raw, 'collection');
    if (this.#collections.has(c.name)) throw new MpError('MP_CONFLICT', `collection '${c.name}' already exists`);
    let dimension = c.dimension;
    if (c.model !== undefined) {
      const e = this.embedders.get(c.model);
      if (!e) throw new MpError('MP_MODEL_NOT_FOUND', `collection '${c.name}': embedding model '${c.model}' not found (known: ${[...this.embedders.keys()].join(', ') || 'none'})`);
      if (dimension !== undefined && dimension !== e.dimension) {
        throw new MpError('MP_INVALID_ARG', `collection '${c.name}': dimension ${dimension} does not match model '${c.model}' (${e.dimension})`);
      }
      dimension = e.dimension;
    }
    const info: CollectionInfo = { name: c.name, model: c.model ?? null, dimension: dimension!, metric: c.metric, hnsw: c.hnsw };
    const tmp = join(this.#dir, `${c.name}.sqlite.creating`);
    rmSync(tmp, { force: true });
    rmSync(this.#indexDir(c.name), { recursive: true, force: true });
    const store = new CollectionStore(tmp);
    store.setMeta(CONFIG_KEY, JSON.stringify(info));
    store.close();
    // Appears whole or not at all: a crash mid-create leaves only the .creating file.
    renameSync(tmp, this.#path(c.name));
    this.#open(c.name);
    return info;
  }

  list(): (CollectionInfo & { documents: number })[] {
    return [...this.#collections.values()].map((c) => ({ ...c.info, documents: c.size }));
  }

  info(name: string): CollectionInfo & { documents: number } {
    const c = this.collection(name);
    return { ...c.info, documents: c.size };
  }

  drop(name: string): void {
    const c = this.collection(name);
    c.store.close();
    this.#collections.delete(name);
    for (const suffix of ['', '-wal', '-shm']) rmSync(this.#path(name) + suffix, { force: true });
    rmSync(this.#indexDir(name), { recursive: true, force: true });
  }

  async upsert(name: string, raw: unknown): Promise<{ upserted: number }> {
    const c = this.collection(name);
    const body = parseInput(UpsertSchema, raw, `collection '${name}' upsert`);
    return { upserted: await c.upsert(body.documents) };
  }

  deleteDocuments(name: string, raw: unknown): { deleted: number } {
    const c = this.collection(name);
    return { deleted: c.delete(parseInput(DeleteSchema, raw, `collection '${name}' delete`).ids) };
  }

  get(name: string, id: string): { id: string; text: string | null; payload: Record<string, unknown>; vector: number[] } {
    const doc: StoredDocument | undefined = this.collection(name).get(id);
    if (!doc) throw new MpError('MP_NOT_FOUND', `collection '${name}': document '${id}' not found`);
    return { id: doc.id, text: doc.text, payload: doc.payload, vector: Array.from(doc.vector) };
  }

  async search(name: string, raw: SearchInput | unknown): Promise<SearchHit[]> {
    const c = this.collection(name);
    return c.search(parseInput(SearchSchema, raw, `collection '${name}' search`));
  }

  /** A consistent copy of the collection, taken while it keeps serving. */
  snapshot(name: string): SnapshotInfo {
    const c = this.collection(name);
    const dir = join(this.#snapshots, name);
    mkdirSync(dir, { recursive: true });
    const snapshot = new Date().toISOString().replace(/[:.]/g, '-');
    const file = join(dir, `${snapshot}.sqlite`);
    c.store.snapshot(file);
    return { collection: name, snapshot, bytes: statSync(file).size };
  }

  snapshots(name: string): SnapshotInfo[] {
    const dir = join(this.#snapshots, name);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => f.endsWith('.sqlite'))
      .map((f) => ({ collection: name, snapshot: f.slice(0, -'.sqlite'.length), bytes: statSync(join(dir, f)).size }));
  }

  /** Replaces (or creates) collection `name` with the content of one of its snapshots. */
  restore(name: string, snapshot: string): CollectionInfo & { documents: number } {
    if (!COLLECTION_NAME.safeParse(name).success) throw new MpError('MP_INVALID_ARG', `collection name '${name}' is not valid`);
    if (!SNAPSHOT_NAME.test(snapshot)) throw new MpError('MP_INVALID_ARG', `snapshot '${snapshot}' is not a valid snapshot name`);
    const file = join(this.#snapshots, name, `${snapshot}.sqlite`);
    if (!existsSync(file)) throw new MpError('MP_NOT_FOUND', `collection '${name}': snapshot '${snapshot}' not found`);
    const tmp = join(this.#dir, `${name}.sqlite.restoring`);
    copyFileSync(file, tmp);
    if (this.#collections.has(name)) this.drop(name);
    rmSync(this.#indexDir(name), { recursive: true, force: true }); // the snapshot's index is rebuilt from it
    renameSync(tmp, this.#path(name));
    this.#open(name);
    return this.info(name);
  }

  collection(name: string): Collection {
    const c = this.#collections.get(name);
    if (!c) throw new MpError('MP_NOT_FOUND', `collection '${name}' not found`);
    return c;
  }

  /** Checkpoints every index and closes every store. */
  close(): void {
    for (const c of this.#collections.values()) c.close();
    this.#collections.clear();
  }

  #path(name: string): string {
    return join(this.#dir, `${name}.sqlite`);
  }

  #indexDir(name: string): string {
    return join(this.#dir, `${name}.hnsw`);
  }

  #open(name: string): void {
    const store = new CollectionStore(this.#path(name));
    const raw = store.getMeta(CONFIG_KEY);
    if (raw === undefined) {
      store.close();
      throw new MpError('MP_CONFIG_INVALID', `collection file '${this.#path(name)}' has no collection config`);
    }
    const info = JSON.parse(raw) as CollectionInfo;
    const embedder = info.model !== null ? (this.embedders.get(info.model) ?? null) : null;
    this.#collections.set(name, new Collection({ ...info, name }, store, embedder, this.#indexDir(name)));
  }
}
