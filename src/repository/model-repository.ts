import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MpError, isMpError } from '../errors.js';
import { MODEL_NAME_PATTERN, ModelConfigSchema, VERSION_PATTERN, type ModelConfig } from '../config/model-config.js';
import { describeIssues } from '../config/zod-issues.js';
import { readConfigFile } from './config-file.js';
import { selectVersions } from './version-policy.js';

/** What the repository says about one model directory, before anything is loaded. */
export interface ModelEntry {
  readonly name: string;
  readonly dir: string;
  /** Validated config, not yet completed from the model file. Undefined when invalid. */
  readonly config: ModelConfig | undefined;
  /** Whether the config names max_batch_size itself (auto-complete may choose it otherwise). */
  readonly batchSizeGiven: boolean;
  /** Whether inputs/outputs came from a config file (else they come from the model file). */
  readonly configPath: string | undefined;
  /** Why the model cannot be served at all (bad config, no versions), or undefined. */
  readonly error: string | undefined;
  /** Versions selected by the version policy, highest first. */
  readonly versions: readonly number[];
  /** Every version directory present on disk, selected or not. */
  readonly onDisk?: readonly number[];
}

export interface RepositoryScan {
  readonly root: string;
  readonly models: readonly ModelEntry[];
  /** Directories skipped because their names are not valid model names. */
  readonly skipped: readonly string[];
}

/**
 * Scans a Triton-layout repository: `<root>/<model>/config.{json,yaml}` and `<root>/<model>/<version>/<file>`.
 * A bad config never stops the scan: that model carries its error and every other model is still listed.
 */
export async function scanRepository(rootDir: string): Promise<RepositoryScan> {
  const root = resolve(rootDir);
  let dirents;
  try {
    dirents = await readdir(root, { withFileTypes: true });
  } catch (err) {
    throw new MpError('MP_CONFIG_INVALID', `model repository ${root} cannot be read: ${(err as Error).message}`, { cause: err });
  }
  const models: ModelEntry[] = [];
  const skipped: string[] = [];
  for (const d of dirents.sort((a, b) => a.name.localeCompare(b.name))) {
    if (!d.isDirectory() && !d.isSymbolicLink()) continue;
    if (d.name.startsWith('.')) continue;
    if (!MODEL_NAME_PATTERN.test(d.name) || d.name.includes('..')) {
      skipped.push(d.name);
      continue;
    }
    models.push(await scanModel(root, d.name));
  }
  return { root, models, skipped };
}

/** Scans one model directory; `configOverride` (the repository load API's) replaces its config file. */
export async function scanModel(root: string, name: string, configOverride?: Record<string, unknown>): Promise<ModelEntry> {
  const dir = join(root, name);
  const versionsOnDisk = await listVersionDirs(dir);
  const onDisk = [...versionsOnDisk].sort((a, b) => b - a);
  let configPath: string | undefined;
  try {
    const file = configOverride ? { path: `${dir} (config override)`, raw: configOverride } : await readConfigFile(dir);
    configPath = file.path;
    const raw = { ...file.raw };
    if (raw.name === undefined) raw.name = name;
    // A TF.js model is a model.json with its weight shards beside it.
    if (raw.backend === 'tfjs' && raw.default_model_filename === undefined) raw.default_model_filename = 'model.json';
    const where = file.path ?? `${dir} (no config file)`;
    const parsed = ModelConfigSchema.safeParse(raw);
    if (!parsed.success) throw new MpError('MP_CONFIG_INVALID', `${where}: ${describeIssues(parsed.error)}`);
    const config = parsed.data;
    if (config.name !== name) {
      throw new MpError('MP_CONFIG_INVALID', `${where}: name: '${config.name}' must equal the directory name '${name}'`);
    }
    const versions = selectVersions(config.version_policy, versionsOnDisk);
    const error = versions.length === 0 ? `${dir}: no version directory matches the version policy` : undefined;
    return { name, dir, config, batchSizeGiven: 'max_batch_size' in raw, configPath, error, versions, onDisk };
  } catch (err) {
    if (!isMpError(err)) throw err;
    const versions = [...versionsOnDisk].sort((a, b) => b - a).slice(0, 1);
    return { name, dir, config: undefined, batchSizeGiven: false, configPath, error: err.message, versions, onDisk };
  }
}

async function listVersionDirs(dir: string): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir(dir)) {
    if (!VERSION_PATTERN.test(entry)) continue;
    const info = await stat(join(dir, entry)).catch(() => undefined);
    if (info?.isDirectory()) out.push(Number(entry));
  }
  return out;
}
