import { z } from 'zod';
import { MpError } from '../errors.js';
import { describeIssues } from '../config/zod-issues.js';
import { DATATYPES, elementCount } from '../tensor/datatype.js';
import { decodeJsonData } from '../tensor/json-codec.js';
import { fromHalfBits } from '../tensor/fp16.js';
import type { Tensor, TensorMap } from '../tensor/tensor.js';

/**
 * What a model step calls. The server wires this to its scheduler, so pipeline inferences are batched
 * together with online traffic; tests and the example use small real implementations.
 * The caller owns `inputs`; the returned map is the invoker's to hand over.
 */
export interface ModelInvoker {
  infer(model: string, inputs: TensorMap, options?: { version?: string; outputs?: readonly string[] }): Promise<TensorMap>;
}

/** The invoker used when none is configured: every model step fails with a clear message. */
export const NO_MODELS: ModelInvoker = {
  infer(model) {
    return Promise.reject(new MpError('MP_MODEL_NOT_FOUND', `model '${model}': no model invoker is configured for this worker`));
  },
};

/**
 * Model steps exchange tensors as JSON, so that step results can be stored and shown:
 * `{ "<tensor name>": { "datatype": "FP32", "shape": [1, 32], "data": [...] } }`.
 */
const JsonTensorSchema = z.strictObject({
  datatype: z.enum(DATATYPES),
  shape: z.array(z.int().nonnegative()),
  data: z.array(z.unknown()),
});
const JsonTensorMapSchema = z.record(z.string().min(1), JsonTensorSchema);

export type JsonTensor = z.infer<typeof JsonTensorSchema>;
export type JsonTensorMap = Record<string, JsonTensor>;

export function jsonToTensorMap(step: string, value: unknown): TensorMap {
  const r = JsonTensorMapSchema.safeParse(value);
  if (!r.success) throw new MpError('MP_INVALID_ARG', `model step '${step}': input must map tensor names to {datatype, shape, data}: ${describeIssues(r.error)}`);
  const out: TensorMap = new Map();
  for (const [name, t] of Object.entries(r.data)) {
    out.set(name, { name, datatype: t.datatype, shape: t.shape, data: decodeJsonData(name, t.datatype, elementCount(t.shape), t.data) });
  }
  return out;
}

const utf8 = new TextDecoder();

export function tensorMapToJson(map: TensorMap): JsonTensorMap {
  const out: JsonTensorMap = {};
  for (const [name, t] of map) out[name] = { datatype: t.datatype, shape: [...t.shape], data: tensorValues(t) };
  return out;
}

function tensorValues(t: Tensor): unknown[] {
  const d = t.data;
  if (Array.isArray(d)) return d.map((b) => utf8.decode(b));
  if (t.datatype === 'FP16') return Array.from(d as Uint16Array, fromHalfBits);
  if (t.datatype === 'BOOL') return Array.from(d as Uint8Array, (v) => v !== 0);
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) return Array.from(d, Number);
  return Array.from(d as Float32Array);
}
