import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { MpError } from '../errors.js';
import type { ModelConfig } from '../config/model-config.js';
import type { Backend, ModelInstance } from '../runtime/backend.js';
import { InstancePool } from '../runtime/instance-pool.js';
import { completeConfig } from '../repository/complete-config.js';
import type { ModelEntry } from '../repository/model-repository.js';
import { batchLayout } from '../scheduler/batch-assembler.js';
import { batchPolicy } from '../scheduler/batch-policy.js';
import { DynamicBatcher } from '../scheduler/dynamic-batcher.js';
import type { Clock } from '../scheduler/clock.js';
import { ModelStatistics } from '../scheduler/model-statistics.js';
import { OutputConfidence } from '../scheduler/output-confidence.js';
import { instanceFactory } from '../processing/instance-factory.js';
import { ServingContext } from './serving-context.js';
import { warmUp } from './warmup.js';
import { resolveInstanceKind } from './instance-kind.js';

export interface LoadOptions {
  readonly clock?: Clock;
}

/** Load -> complete config -> create instances -> warm up -> a ServingContext. Frees what it made on failure. */
export async function loadVersion(entry: ModelEntry, version: number, backend: Backend, options: LoadOptions = {}): Promise<ServingContext> {
  const declared = entry.config;
  if (!declared) throw new MpError('MP_CONFIG_INVALID', entry.error ?? 'invalid config');
  const path = join(entry.dir, String(version), declared.default_model_filename);
  try {
    await access(path);
  } catch {
    throw new MpError('MP_MODEL_NOT_READY', `model file ${path} does not exist`);
  }
  const instances: ModelInstance[] = [];
  const startedMs = performance.now();
  const where = entry.configPath ?? `${entry.dir} (auto-completed config)`;
  // Pre/post-processing declared in the config (e.g. a tokenizer) wraps each backend instance.
  const factory = await instanceFactory(backend, path, declared, join(entry.dir, String(version)), where);
  try {
    instances.push(await factory.create(declared));
    let config = completeConfig(declared, instances[0]!.signature, where, entry.batchSizeGiven);
    checkBatchingConfig(config, where);
    if (config.instance_kind === 'auto') {
      // The first instance started in its own thread; a model that computes in microseconds moves to the
      // main thread. The completed config (GET .../config) says which kind runs.
      const kind = await resolveInstanceKind(config, instances[0]!).then((r) => r.kind, () => 'worker' as const);
      config = { ...config, instance_kind: kind };
      if (kind === 'inline') {
        await instances.pop()!.release();
        instances.push(await factory.create(config));
      }
    }
    while (instances.length < config.instance_count) instances.push(await factory.create(config));
    await warmUp(config, instances).catch((err: unknown) => {
      throw new MpError('MP_BACKEND', `warm-up failed: ${(err as Error).message}`, { cause: err });
    });
    const pool = new InstancePool(instances);
    const layout = batchLayout(config);
    const scored = config.outputs.flatMap((o) => (o.confidence ? [{ name: o.name, kind: o.confidence }] : []));
    const statistics = new ModelStatistics(scored.length > 0 ? new OutputConfidence(scored) : undefined);
    const batcher = new DynamicBatcher(pool, layout, batchPolicy(config), options.clock, statistics);
    const context = new ServingContext(entry.name, version, config, backend.platform, batcher, layout, pool, statistics, backend.checkInput?.bind(backend), factory.admission);
    context.loadSeconds = (performance.now() - startedMs) / 1000;
    return context;
  } catch (err) {
    await Promise.allSettled(instances.map((i) => i.release()));
    throw err;
  }
}

function checkBatchingConfig(config: ModelConfig, where: string): void {
  const db = config.dynamic_batching;
  if (!db) return;
  if (db.priority_levels > 0 && db.default_priority_level > db.priority_levels) {
    throw new MpError('MP_CONFIG_INVALID', `${where}: dynamic_batching.default_priority_level: ${db.default_priority_level} exceeds priority_levels ${db.priority_levels}`);
  }
  for (const [name, p] of Object.entries(db.padding.inputs)) {
    const spec = config.inputs.find((i) => i.name === name);
    if (!spec) throw new MpError('MP_CONFIG_INVALID', `${where}: dynamic_batching.padding.inputs.${name}: no such input`);
    if (spec.dims[p.dim] !== -1) {
      throw new MpError('MP_CONFIG_INVALID', `${where}: dynamic_batching.padding.inputs.${name}.dim: dimension ${p.dim} is not variable (-1)`);
    }
  }
  for (const [name, p] of Object.entries(db.padding.outputs)) {
    const spec = config.outputs.find((o) => o.name === name);
    if (!spec) throw new MpError('MP_CONFIG_INVALID', `${where}: dynamic_batching.padding.outputs.${name}: no such output`);
    if (!(p.input in db.padding.inputs)) {
      throw new MpError('MP_CONFIG_INVALID', `${where}: dynamic_batching.padding.outputs.${name}.input: '${p.input}' is not a padded input`);
    }
    if (p.dim >= spec.dims.length) {
      throw new MpError('MP_CONFIG_INVALID', `${where}: dynamic_batching.padding.outputs.${name}.dim: the output has ${spec.dims.length} dims`);
    }
  }
}
