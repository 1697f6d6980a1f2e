import { MpError } from '../../errors.js';
import type { NumericArray } from '../../tensor/datatype.js';
import { encodeBinaryData } from '../../tensor/binary-codec.js';
import { fromHalfBits } from '../../tensor/fp16.js';
import { encodeJsonData } from '../../tensor/json-codec.js';
import type { Tensor, TensorMap } from '../../tensor/tensor.js';
import type { ParsedInferRequest } from './infer-request-parser.js';

export interface InferResponseBody {
  readonly body: Buffer | string;
  /** Set when binary tensors follow the JSON header. */
  readonly headerLength: number | undefined;
}

/**
 * Renders a v2 infer response. JSON tensors are written as text directly (exact for 64-bit
 * integers); binary tensors are appended after the JSON header without copying numeric data.
 */
export function writeInferResponse(
  model: string,
  version: number,
  request: ParsedInferRequest,
  outputs: TensorMap,
  outputOrder: readonly string[],
  batched: boolean,
  /** Response-level parameters (e.g. how the request was routed). */
  parameters?: Readonly<Record<string, string | number | boolean>>,
): InferResponseBody {
  const requested = request.outputs;
  const names = requested ? requested.map((o) => o.name) : outputOrder;
  const parts: string[] = [];
  const chunks: Buffer[] = [];
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    let tensor = outputs.get(name);
    if (!tensor) throw new MpError('MP_BACKEND', `the model produced no output '${name}'`);
    const spec = requested?.[i];
    if (spec && spec.classCount > 0) tensor = classify(tensor, spec.classCount, batched);
    const binary = spec?.binary ?? request.binaryOutputDefault;
    const head = `{"name":${JSON.stringify(name)},"datatype":"${tensor.datatype}","shape":[${tensor.shape.join(',')}]`;
    if (binary) {
      const chunk = encodeBinaryData(tensor.datatype, tensor.data);
      chunks.push(chunk);
      parts.push(`${head},"parameters":{"binary_data_size":${chunk.byteLength}}}`);
    } else {
      parts.push(`${head},"data":${encodeJsonData(tensor.datatype, tensor.data)}}`);
    }
  }
  let json = `{"model_name":${JSON.stringify(model)},"model_version":"${version}"`;
  if (request.id !== undefined) json += `,"id":${JSON.stringify(request.id)}`;
  if (parameters) json += `,"parameters":${JSON.stringify(parameters)}`;
  json += `,"outputs":[${parts.join(',')}]}`;
  if (chunks.length === 0) return { body: json, headerLength: undefined };
  const header = Buffer.from(json, 'utf8');
  return { body: Buffer.concat([header, ...chunks]), headerLength: header.byteLength };
}

/**
 * Triton's classification extension: the top `k` entries of each batch row as BYTES "value:index",
 * highest first.
 */
function classify(tensor: Tensor, k: number, batched: boolean): Tensor {
  if (tensor.datatype === 'BYTES') throw new MpError('MP_INVALID_ARG', `output '${tensor.name}': classification needs a numeric output`);
  const data = tensor.data as NumericArray;
  const rows = batched ? (tensor.shape[0] ?? 1) : 1;
  const width = rows === 0 ? 0 : data.length / rows;
  const take = Math.min(k, width);
  const isHalf = tensor.datatype === 'FP16';
  const out: Uint8Array[] = [];
  const encoder = new TextEncoder();
  for (let r = 0; r < rows; r++) {
    const idx = Array.from({ length: width }, (_, j) => j);
    const value = (j: number): number => {
      const v = data[r * width + j]!;
      return isHalf ? fromHalfBits(v as number) : Number(v);
    };
    idx.sort((a, b) => value(b) - value(a));
    for (let j = 0; j < take; j++) out.push(encoder.encode(`${value(idx[j]!)}:${idx[j]}`));
  }
  return { name: tensor.name, datatype: 'BYTES', shape: batched ? [rows, take] : [take], data: out };
}
