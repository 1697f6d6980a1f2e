import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { MpError } from '../errors.js';

export const CONFIG_FILENAMES = ['config.json', 'config.yaml', 'config.yml'] as const;

export interface RawConfigFile {
  /** Path of the file read, or undefined when the model directory has none. */
  readonly path: string | undefined;
  readonly raw: Record<string, unknown>;
}

/** Reads a model's config.json / config.yaml, or an empty object when there is none (auto-complete fills it). */
export async function readConfigFile(modelDir: string): Promise<RawConfigFile> {
  for (const filename of CONFIG_FILENAMES) {
    const path = join(modelDir, filename);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new MpError('MP_CONFIG_INVALID', `${path}: cannot be read: ${(err as Error).message}`, { cause: err });
    }
    let raw: unknown;
    try {
      raw = filename === 'config.json' ? JSON.parse(text) : parseYaml(text);
    } catch (err) {
      throw new MpError('MP_CONFIG_INVALID', `${path}: not valid ${filename.endsWith('json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
    }
    if (raw === null || raw === undefined) raw = {};
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      throw new MpError('MP_CONFIG_INVALID', `${path}: (root): must be an object`);
    }
    return { path, raw: raw as Record<string, unknown> };
  }
  return { path: undefined, raw: {} };
}
