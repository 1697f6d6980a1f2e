import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelEntry, RepositoryScan } from './model-repository.js';

/** What one model looked like on disk at one scan: its config and each selected version's file. */
export interface ModelFingerprint {
  readonly entry: ModelEntry;
  /** The validated config (or the error) as text: a change means every version reloads. */
  readonly configKey: string;
  /** Selected version -> "size:mtime" of its model file ("missing" when absent). */
  readonly versions: ReadonlyMap<number, string>;
  /** Every version directory on disk: one that disappears may still be serving (kept by the policy). */
  readonly diskKey: string;
}

export type RepositorySnapshot = ReadonlyMap<string, ModelFingerprint>;

/** Fingerprints one model entry: config text plus the size and mtime of every selected version's file. */
export async function fingerprintModel(entry: ModelEntry): Promise<ModelFingerprint> {
  const versions = new Map<number, string>();
  const filename = entry.config?.default_model_filename ?? 'model.onnx';
  for (const v of entry.versions) {
    const info = await stat(join(entry.dir, String(v), filename)).catch(() => undefined);
    versions.set(v, info ? `${info.size}:${info.mtimeMs}` : 'missing');
  }
  return { entry, configKey: JSON.stringify(entry.config ?? null) + (entry.error ?? ''), versions, diskKey: (entry.onDisk ?? entry.versions).join(',') };
}

export async function snapshotRepository(scan: RepositoryScan): Promise<RepositorySnapshot> {
  const out = new Map<string, ModelFingerprint>();
  for (const entry of scan.models) out.set(entry.name, await fingerprintModel(entry));
  return out;
}

/** The work one model needs so that what serves matches what is on disk. */
export interface ModelChange {
  readonly model: string;
  readonly entry: ModelEntry;
  /** Versions to load (new) or reload (file or config changed), highest first. */
  readonly load: readonly number[];
  /** Versions no longer selected (removed from disk or dropped by the version policy). */
  readonly retire: readonly number[];
  /** True when the config changed: every version reloads. */
  readonly configChanged: boolean;
}

export interface RepositoryDiff {
  /** Models whose directories disappeared: unload every version. */
  readonly removed: readonly string[];
  /** Models that are new or changed (unchanged models are absent). */
  readonly changed: readonly ModelChange[];
}

/** Compares two snapshots. `before` empty = everything is new. */
export function diffSnapshots(before: RepositorySnapshot, after: RepositorySnapshot): RepositoryDiff {
  const removed = [...before.keys()].filter((m) => !after.has(m));
  const changed: ModelChange[] = [];
  for (const [model, now] of after) {
    const change = diffModel(before.get(model), now);
    if (change) changed.push(change);
  }
  return { removed, changed };
}

/** The change for one model, or undefined when nothing differs. */
export function diffModel(before: ModelFingerprint | undefined, now: ModelFingerprint): ModelChange | undefined {
  const configChanged = before !== undefined && before.configKey !== now.configKey;
  const load: number[] = [];
  for (const [v, sig] of now.versions) {
    const old = before?.versions.get(v);
    if (configChanged || old === undefined || old !== sig) load.push(v);
  }
  const retire = before ? [...before.versions.keys()].filter((v) => !now.versions.has(v)) : [];
  if (before && !configChanged && load.length === 0 && retire.length === 0 && before.diskKey === now.diskKey) return undefined;
  load.sort((a, b) => b - a);
  return { model: now.entry.name, entry: now.entry, load, retire, configChanged };
}
