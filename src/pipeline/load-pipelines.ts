import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { MpError } from '../errors.js';
import type { ModelInvoker } from './model-invoker.js';
import { parsePipelineFile } from './pipeline-definition.js';
import { PipelineRegistry, type BuiltPipeline, type StepFunction } from './pipeline-registry.js';

export interface LoadedPipelines {
  readonly registry: PipelineRegistry;
  /** A module may export `modelInvoker`; the server passes its own instead. */
  readonly invoker: ModelInvoker | null;
}

/**
 * Loads pipelines for a worker or a client:
 * - a TS/JS module exporting `pipelines` (an array of `definePipeline(...).build()`), optionally `modelInvoker`;
 * - a JSON/YAML file `{ functions?: "./module.js", pipelines: [...] }`, whose function steps name the
 *   module's exports.
 */
export async function loadPipelines(file: string): Promise<LoadedPipelines> {
  const path = resolve(file);
  const registry = new PipelineRegistry();
  const ext = extname(path).toLowerCase();
  if (ext === '.json' || ext === '.yaml' || ext === '.yml') {
    let raw: unknown;
    try {
      const text = await readFile(path, 'utf8');
      raw = ext === '.json' ? JSON.parse(text) : parseYaml(text);
    } catch (err) {
      throw new MpError('MP_CONFIG_INVALID', `pipeline file '${file}': ${(err as Error).message}`, { cause: err });
    }
    const parsed = parsePipelineFile(raw);
    let invoker: ModelInvoker | null = null;
    if (parsed.functions !== undefined) {
      const mod = await importModule(resolve(dirname(path), parsed.functions));
      for (const [name, value] of Object.entries(mod)) {
        if (typeof value === 'function') registry.defineFunction(name, value as StepFunction);
      }
      invoker = (mod.modelInvoker as ModelInvoker | undefined) ?? null;
    }
    for (const p of parsed.pipelines) registry.add(p);
    registry.checkFunctions();
    return { registry, invoker };
  }
  const mod = await importModule(path);
  const pipelines = (mod.pipelines ?? (mod.default as Record<string, unknown> | undefined)?.pipelines) as BuiltPipeline[] | undefined;
  if (!Array.isArray(pipelines) || pipelines.length === 0) {
    throw new MpError('MP_CONFIG_INVALID', `pipeline module '${file}' must export 'pipelines', an array of definePipeline(...).build()`);
  }
  for (const p of pipelines) registry.addBuilt(p);
  registry.checkFunctions();
  return { registry, invoker: (mod.modelInvoker as ModelInvoker | undefined) ?? null };
}

async function importModule(path: string): Promise<Record<string, unknown>> {
  try {
    return (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    throw new MpError('MP_CONFIG_INVALID', `cannot load pipeline module '${path}': ${(err as Error).message}`, { cause: err });
  }
}
