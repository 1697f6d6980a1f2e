import { MpError } from '../errors.js';
import type { ModelConfig } from '../config/model-config.js';
import { NUMERIC_TYPES, elementCount, type TensorData } from '../tensor/datatype.js';
import { toHalfBits } from '../tensor/fp16.js';
import type { TensorMap } from '../tensor/tensor.js';
import type { ModelInstance } from '../runtime/backend.js';
import { seededUnit } from './seeded-unit.js';

/**
 * Builds a warm-up request from the config: configured sample data, or zeros / seeded random values,
 * with variable dimensions set from `warmup.inputs[name].dims` or to 1.
 */
export function warmupInputs(config: ModelConfig): TensorMap {
  const w = config.warmup;
  const batched = config.max_batch_size > 0;
  const out: TensorMap = new Map();
  const rand = seededUnit(7);
  for (const spec of config.inputs) {
    const sample = w.inputs[spec.name];
    const dims = (sample?.dims ?? spec.dims).map((d) => (d === -1 ? 1 : d));
    if (dims.length !== spec.dims.length) {
      throw new MpError('MP_CONFIG_INVALID', `warmup.inputs.${spec.name}.dims: needs ${spec.dims.length} dims, got ${dims.length}`);
    }
    const shape = batched ? [Math.min(w.batch_size, config.max_batch_size), ...dims] : dims;
    const n = elementCount(shape);
    const source = sample?.data ?? 'zero';
    const value = (i: number): number | string | boolean =>
      Array.isArray(source) ? source[i % source.length]! : source === 'zero' ? 0 : rand();
    let data: TensorData;
    if (spec.datatype === 'BYTES') {
      data = Array.from({ length: n }, (_, i) => new TextEncoder().encode(String(value(i) === 0 ? '' : value(i))));
    } else {
      const info = NUMERIC_TYPES[spec.datatype];
      const arr = new info.ctor(n);
      for (let i = 0; i < n; i++) {
        const v = Number(value(i));
        const scaled = info.kind === 'float' || info.kind === 'fp16' ? v : Math.floor(v * Math.min(10, info.max + 1));
        if (info.kind === 'fp16') (arr as Uint16Array)[i] = toHalfBits(scaled);
        else if (arr instanceof BigInt64Array || arr instanceof BigUint64Array) arr[i] = BigInt(scaled);
        else (arr as Float32Array)[i] = scaled;
      }
      data = arr;
    }
    out.set(spec.name, { name: spec.name, datatype: spec.datatype, shape, data });
  }
  return out;
}

/** Runs the warm-up request on every instance so the first real request does not pay for lazy init. */
export async function warmUp(config: ModelConfig, instances: readonly ModelInstance[]): Promise<void> {
  if (!config.warmup.enabled) return;
  const inputs = warmupInputs(config);
  const outputs = config.outputs.map((o) => o.name);
  for (const instance of instances) {
    for (let i = 0; i < config.warmup.iterations; i++) await instance.run(inputs, outputs);
  }
}
