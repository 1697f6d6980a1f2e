import { MpError } from '../errors.js';
import type { ModelConfig, TensorSpec } from '../config/model-config.js';
import type { ModelSignature, TensorSignature } from '../runtime/backend.js';

/** When auto-complete finds a batch dimension on every tensor, it serves batches up to this size. */
export const AUTO_MAX_BATCH_SIZE = 32;

/**
 * Completes a config from the model file's own signature (missing inputs/outputs, max_batch_size)
 * and checks that what the config does say agrees with the file. Errors name the file and the field.
 */
export function completeConfig(
  config: ModelConfig,
  signature: ModelSignature,
  where: string,
  batchSizeGiven: boolean,
): ModelConfig {
  let maxBatchSize = config.max_batch_size;
  if (!batchSizeGiven && config.inputs.length === 0 && allBatchable(signature)) maxBatchSize = AUTO_MAX_BATCH_SIZE;
  const batched = maxBatchSize > 0;
  if (batched) {
    for (const t of [...signature.inputs, ...signature.outputs]) {
      if (t.shape.length > 0 && t.shape[0] !== -1) {
        throw new MpError('MP_CONFIG_INVALID', `${where}: max_batch_size: ${maxBatchSize} but '${t.name}' has no variable batch dimension (shape [${t.shape.join(',')}])`);
      }
    }
  }
  const inputs = completeTensors('inputs', config.inputs, signature.inputs, batched, where);
  const outputs = completeTensors('outputs', config.outputs, signature.outputs, batched, where);
  const missing = signature.inputs.filter((s) => !inputs.some((i) => i.name === s.name));
  if (missing.length > 0) {
    throw new MpError('MP_CONFIG_INVALID', `${where}: inputs: the model also needs ${missing.map((m) => `'${m.name}'`).join(', ')}`);
  }
  return { ...config, max_batch_size: maxBatchSize, inputs, outputs };
}

function allBatchable(signature: ModelSignature): boolean {
  const all = [...signature.inputs, ...signature.outputs];
  return all.length > 0 && all.every((t) => t.shape.length > 0 && t.shape[0] === -1);
}

function completeTensors<T extends TensorSpec>(
  field: 'inputs' | 'outputs',
  declared: readonly T[],
  actual: readonly TensorSignature[],
  batched: boolean,
  where: string,
): T[] {
  if (declared.length === 0) {
    // A spec with only the required fields is a valid T (every other field is optional).
    return actual.map((t) => ({ name: t.name, datatype: t.datatype, dims: batched ? t.shape.slice(1) : [...t.shape] }) as T);
  }
  return declared.map((spec, i) => {
    const found = actual.find((t) => t.name === spec.name);
    const at = `${where}: ${field}.${i}`;
    if (!found) {
      throw new MpError('MP_CONFIG_INVALID', `${at}.name: the model has no ${field.slice(0, -1)} '${spec.name}' (it has ${actual.map((t) => `'${t.name}'`).join(', ')})`);
    }
    if (found.datatype !== spec.datatype) {
      throw new MpError('MP_CONFIG_INVALID', `${at}.datatype: '${spec.name}' is ${found.datatype} in the model, not ${spec.datatype}`);
    }
    const modelDims = batched ? found.shape.slice(1) : found.shape;
    // A model file may declare no shape at all (rank unknown); then the config is trusted.
    if (found.shape.length > 0) {
      if (modelDims.length !== spec.dims.length) {
        throw new MpError('MP_CONFIG_INVALID', `${at}.dims: '${spec.name}' has ${modelDims.length} dims${batched ? ' after the batch dimension' : ''} in the model ([${modelDims.join(',')}]), not ${spec.dims.length}`);
      }
      spec.dims.forEach((d, j) => {
        const m = modelDims[j]!;
        if (m !== -1 && d !== m) {
          throw new MpError('MP_CONFIG_INVALID', `${at}.dims.${j}: '${spec.name}' is ${m} in the model, not ${d}`);
        }
      });
    }
    return spec;
  });
}
