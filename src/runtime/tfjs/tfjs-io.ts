import { readFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { io } from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { MpError } from '../../errors.js';
import { describeIssues } from '../../config/zod-issues.js';

/** The parts of TF.js's `model.json` this loader reads; the topology itself is TF.js's to interpret. */
const ModelJson = z.object({
  format: z.string().optional(),
  generatedBy: z.string().optional(),
  convertedBy: z.string().nullable().optional(),
  modelTopology: z.record(z.string(), z.unknown()),
  weightsManifest: z.array(z.object({ paths: z.array(z.string().min(1)), weights: z.array(z.record(z.string(), z.unknown())) })),
  signature: z.record(z.string(), z.unknown()).optional(),
  userDefinedMetadata: z.record(z.string(), z.unknown()).optional(),
  modelInitializer: z.record(z.string(), z.unknown()).optional(),
});

export interface LoadedArtifacts {
  readonly format: string | undefined;
  readonly handler: io.IOHandler;
}

/**
 * Reads `model.json` and its weight shards from disk into one in-memory IOHandler (TF.js has no
 * file:// loader without tfjs-node). Shard paths must stay inside the model's directory.
 */
export async function readArtifacts(modelPath: string): Promise<LoadedArtifacts> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(modelPath, 'utf8'));
  } catch (err) {
    throw new MpError('MP_BACKEND', `${modelPath}: cannot read TF.js model.json: ${(err as Error).message}`, { cause: err });
  }
  const parsed = ModelJson.safeParse(json);
  if (!parsed.success) throw new MpError('MP_BACKEND', `${modelPath}: not a TF.js model.json: ${describeIssues(parsed.error)}`);
  const m = parsed.data;
  const dir = resolve(dirname(modelPath));
  const shards: Buffer[] = [];
  for (const group of m.weightsManifest) {
    for (const p of group.paths) {
      const file = resolve(join(dir, p));
      if (!file.startsWith(dir + sep)) throw new MpError('MP_BACKEND', `${modelPath}: weight path '${p}' leaves the model directory`);
      shards.push(await readFile(file).catch((err: unknown) => {
        throw new MpError('MP_BACKEND', `${modelPath}: weight shard '${p}': ${(err as Error).message}`, { cause: err });
      }));
    }
  }
  const all = Buffer.concat(shards);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  const artifacts: io.ModelArtifacts = {
    modelTopology: m.modelTopology,
    weightSpecs: m.weightsManifest.flatMap((g) => g.weights) as unknown as io.WeightsManifestEntry[],
    weightData,
    ...(m.format !== undefined ? { format: m.format } : {}),
    ...(m.generatedBy !== undefined ? { generatedBy: m.generatedBy } : {}),
    ...(m.convertedBy ? { convertedBy: m.convertedBy } : {}),
    ...(m.signature ? { signature: m.signature } : {}),
    ...(m.userDefinedMetadata ? { userDefinedMetadata: m.userDefinedMetadata as Record<string, object> } : {}),
    ...(m.modelInitializer ? { modelInitializer: m.modelInitializer } : {}),
  };
  return { format: m.format ?? guessFormat(m.modelTopology), handler: { load: () => Promise.resolve(artifacts) } };
}

/** Older converters wrote no `format`: a Keras topology has a model_config/class_name, a graph has nodes. */
function guessFormat(topology: Record<string, unknown>): string | undefined {
  if ('model_config' in topology || 'class_name' in topology) return 'layers-model';
  if ('node' in topology) return 'graph-model';
  return undefined;
}
