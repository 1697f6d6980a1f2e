import { gunzipSync, inflateSync } from 'node:zlib';
import { z } from 'zod';
import { MpError } from '../../errors.js';
import { describeIssues } from '../../config/zod-issues.js';
import { elementCount, isDataType } from '../../tensor/datatype.js';
import { decodeBinaryData } from '../../tensor/binary-codec.js';
import { decodeJsonData } from '../../tensor/json-codec.js';
import { parseJsonExact } from '../../tensor/exact-json.js';
import type { TensorMap } from '../../tensor/tensor.js';

/** v2 parameters: string -> bool | number | string. Unknown keys are kept and passed on. */
const Parameters = z.record(z.string(), z.union([z.boolean(), z.number(), z.string()]));

/** Only the envelope is validated by schema; `data` is checked element by element while decoding. */
const InferRequestSchema = z.object({
  id: z.string().max(1024).optional(),
  parameters: Parameters.optional(),
  inputs: z
    .array(
      z.object({
        name: z.string().min(1).max(256),
        shape: z.array(z.int().nonnegative().max(2 ** 31 - 1)).max(16),
        datatype: z.string(),
        parameters: Parameters.optional(),
        data: z.unknown().optional(),
      }),
    )
    .min(1),
  outputs: z.array(z.object({ name: z.string().min(1).max(256), parameters: Parameters.optional() })).optional(),
});

export interface RequestedOutput {
  readonly name: string;
  /** true/false from the output's `binary_data` parameter; undefined = the request's default. */
  readonly binary: boolean | undefined;
  /** Classification extension: top-k as "value:index" strings; 0 = off. */
  readonly classCount: number;
}

export interface ParsedInferRequest {
  readonly id: string | undefined;
  readonly parameters: Record<string, boolean | number | string> | undefined;
  readonly inputs: TensorMap;
  readonly outputs: readonly RequestedOutput[] | undefined;
  readonly binaryOutputDefault: boolean;
  readonly priority: number | undefined;
  readonly timeoutUs: number | undefined;
}

/**
 * Parses a v2 infer body: JSON alone, or (binary tensor data extension) a JSON header of
 * `Inference-Header-Content-Length` bytes followed by the binary tensors in input order.
 */
export function parseInferRequest(body: Buffer, headerLength: string | undefined, contentEncoding: string | undefined, bodyLimit: number): ParsedInferRequest {
  const raw = decompress(body, contentEncoding, bodyLimit);
  let jsonPart = raw;
  let binary = raw.subarray(raw.byteLength);
  if (headerLength !== undefined) {
    const n = /^[0-9]{1,12}$/.test(headerLength.trim()) ? Number(headerLength) : NaN;
    if (!Number.isSafeInteger(n) || n > raw.byteLength) {
      throw new MpError('MP_INVALID_ARG', `Inference-Header-Content-Length: '${headerLength}' is not a length within the ${raw.byteLength}-byte body`);
    }
    jsonPart = raw.subarray(0, n);
    binary = raw.subarray(n);
  }
  let json: unknown;
  try {
    const text = jsonPart.toString('utf8');
    // 64-bit integers beyond 2^53 would be rounded by JSON.parse: those bodies take the exact parser.
    json = /[0-9]{16}/.test(text) && /"U?INT64"/.test(text) ? parseJsonExact(text) : JSON.parse(text);
  } catch (err) {
    throw new MpError('MP_INVALID_ARG', `request body is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = InferRequestSchema.safeParse(json);
  if (!parsed.success) throw new MpError('MP_INVALID_ARG', `invalid inference request: ${describeIssues(parsed.error)}`);
  const req = parsed.data;

  const inputs: TensorMap = new Map();
  let offset = 0;
  for (const input of req.inputs) {
    const { name, shape, datatype } = input;
    if (inputs.has(name)) throw new MpError('MP_INVALID_ARG', `input '${name}' appears more than once`);
    if (!isDataType(datatype)) throw new MpError('MP_INVALID_ARG', `input '${name}': unknown datatype '${datatype}'`);
    if (input.parameters?.shared_memory_region !== undefined) {
      throw new MpError('MP_INVALID_ARG', `input '${name}': shared memory is not supported`);
    }
    const count = elementCount(shape);
    // Every element costs at least one byte on the wire, so a larger count is a lie about the shape.
    if (count > raw.byteLength) {
      throw new MpError('MP_INVALID_ARG', `input '${name}': shape [${shape.join(',')}] holds ${count} elements, more than the ${raw.byteLength}-byte request can carry`);
    }
    const binarySize = input.parameters?.binary_data_size;
    if (binarySize !== undefined) {
      if (typeof binarySize !== 'number' || !Number.isSafeInteger(binarySize) || binarySize < 0) {
        throw new MpError('MP_INVALID_ARG', `input '${name}': parameter 'binary_data_size' must be a non-negative integer`);
      }
      if (input.data !== undefined) throw new MpError('MP_INVALID_ARG', `input '${name}': has both 'data' and 'binary_data_size'`);
      if (offset + binarySize > binary.byteLength) {
        throw new MpError('MP_INVALID_ARG', `input '${name}': binary_data_size ${binarySize} runs past the end of the body (${binary.byteLength - offset} bytes left)`);
      }
      const chunk = binary.subarray(offset, offset + binarySize);
      offset += binarySize;
      inputs.set(name, { name, datatype, shape, data: decodeBinaryData(name, datatype, count, chunk) });
    } else {
      if (input.data === undefined) throw new MpError('MP_INVALID_ARG', `input '${name}': has neither 'data' nor 'binary_data_size'`);
      inputs.set(name, { name, datatype, shape, data: decodeJsonData(name, datatype, count, input.data) });
    }
  }
  if (offset !== binary.byteLength) {
    throw new MpError('MP_INVALID_ARG', `the body has ${binary.byteLength - offset} bytes of binary data that no input claims`);
  }

  // An empty list asks for nothing in particular: the same as no list, every output.
  const outputs = req.outputs?.length === 0 ? undefined : req.outputs?.map((o): RequestedOutput => {
    const p = o.parameters ?? {};
    if (p.binary_data !== undefined && typeof p.binary_data !== 'boolean') {
      throw new MpError('MP_INVALID_ARG', `output '${o.name}': parameter 'binary_data' must be a boolean`);
    }
    if (p.shared_memory_region !== undefined) throw new MpError('MP_INVALID_ARG', `output '${o.name}': shared memory is not supported`);
    const k = p.classification ?? 0;
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 0) {
      throw new MpError('MP_INVALID_ARG', `output '${o.name}': parameter 'classification' must be a non-negative integer`);
    }
    return { name: o.name, binary: p.binary_data, classCount: k };
  });
  if (outputs) {
    const seen = new Set<string>();
    for (const o of outputs) {
      if (seen.has(o.name)) throw new MpError('MP_INVALID_ARG', `output '${o.name}' is requested more than once`);
      seen.add(o.name);
    }
  }
  const params = req.parameters;
  const binaryOutputDefault = params?.binary_data_output;
  if (binaryOutputDefault !== undefined && typeof binaryOutputDefault !== 'boolean') {
    throw new MpError('MP_INVALID_ARG', `parameter 'binary_data_output' must be a boolean`);
  }
  return {
    id: req.id,
    parameters: params,
    inputs,
    outputs,
    binaryOutputDefault: binaryOutputDefault === true,
    priority: nonNegativeInt(params, 'priority'),
    timeoutUs: nonNegativeInt(params, 'timeout'),
  };
}

function nonNegativeInt(params: Record<string, unknown> | undefined, key: string): number | undefined {
  const v = params?.[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new MpError('MP_INVALID_ARG', `parameter '${key}' must be a non-negative integer`);
  }
  return v;
}

function decompress(body: Buffer, encoding: string | undefined, limit: number): Buffer {
  // Content codings are case-insensitive (RFC 9110 §8.4.1).
  encoding = encoding?.trim().toLowerCase();
  if (!encoding || encoding === 'identity') return body;
  try {
    if (encoding === 'gzip') return gunzipSync(body, { maxOutputLength: limit });
    if (encoding === 'deflate') return inflateSync(body, { maxOutputLength: limit });
  } catch (err) {
    const tooLarge = (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
    throw new MpError(tooLarge ? 'MP_PAYLOAD_TOO_LARGE' : 'MP_INVALID_ARG', tooLarge ? `decompressed body exceeds ${limit} bytes` : `body is not valid ${encoding}`);
  }
  throw new MpError('MP_UNSUPPORTED_MEDIA_TYPE', `Content-Encoding '${encoding}' is not supported (use gzip or deflate)`);
}
