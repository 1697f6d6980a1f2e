import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { CollectionInfo } from './collection.js';
import type { CollectionStore } from './collection-store.js';
import { HnswIndex } from './vector-index.js';

/**
 * A saved HNSW graph and the point of the SQLite log it reflects, so that a restart loads the graph and replays
 * only what came after instead of rebuilding it (76 s for 100k 512-d vectors on the bench machine).
 *
 *   <dir>/<maxLabel>-<removedSeq>-<live>-<deleted>.hnsw
 *
 * maxLabel: every document with a label up to it is in the graph (labels only grow); removedSeq: every removal up
 * to it is applied. Replay adds documents with a larger label and removes labels from later removals that the
 * graph holds (label ≤ maxLabel). The name is the only metadata and a rename publishes it, so a crash while
 * saving leaves the previous checkpoint, or none, never a torn one.
 */
const NAME = /^(\d+)-(\d+)-(\d+)-(\d+)\.hnsw$/;

interface Checkpoint {
  readonly file: string;
  readonly maxLabel: number;
  readonly removedSeq: number;
  readonly live: number;
  readonly deleted: number;
}

function latest(dir: string): Checkpoint | null {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return null;
  }
  const found = files.map((f) => ({ f, m: NAME.exec(f) })).filter((x) => x.m !== null);
  if (found.length === 0) return null;
  const { f, m } = found.sort((a, b) => Number(b.m![1]) - Number(a.m![1]) || Number(b.m![2]) - Number(a.m![2]))[0]!;
  return { file: join(dir, f), maxLabel: Number(m![1]), removedSeq: Number(m![2]), live: Number(m![3]), deleted: Number(m![4]) };
}

/** Loads the newest checkpoint and replays the log after it, or rebuilds from every document when there is none (or it is unreadable). */
export function openIndex(info: CollectionInfo, store: CollectionStore, dir: string): { index: HnswIndex; from: 'checkpoint' | 'rebuild'; replayed: number } {
  const cp = latest(dir);
  if (cp) {
    try {
      const index = new HnswIndex(info.dimension, info.metric, info.hnsw, cp);
      let replayed = 0;
      for (const label of store.removedSince(cp.removedSeq)) {
        if (label <= cp.maxLabel) {
          index.remove(label);
          replayed++;
        }
      }
      for (const { label, vector } of store.vectors(cp.maxLabel)) {
        index.add(label, vector);
        replayed++;
      }
      return { index, from: 'checkpoint', replayed };
    } catch {
      // An unreadable or inconsistent checkpoint costs a rebuild, never a wrong index.
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const index = new HnswIndex(info.dimension, info.metric, info.hnsw);
  let replayed = 0;
  for (const { label, vector } of store.vectors()) {
    index.add(label, vector);
    replayed++;
  }
  return { index, from: 'rebuild', replayed };
}

/** Saves the graph as of the store's current position, then drops older checkpoints and the removals it covers. */
export function writeCheckpoint(dir: string, index: HnswIndex, store: CollectionStore): void {
  mkdirSync(dir, { recursive: true });
  const { maxLabel, removedSeq } = store.position();
  const { live, deleted } = index.counts;
  const name = `${maxLabel}-${removedSeq}-${live}-${deleted}.hnsw`;
  const tmp = join(dir, `${name}.tmp`);
  index.save(tmp);
  renameSync(tmp, join(dir, name));
  for (const f of readdirSync(dir)) if (f !== name) rmSync(join(dir, f), { force: true });
  store.pruneRemoved(removedSeq);
}
