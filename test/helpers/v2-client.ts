/**
 * A small KServe v2 / Open Inference Protocol client for the tests, written from the protocol
 * documents rather than from the server's codecs: JSON tensors, Triton's binary tensor data
 * extension (raw little-endian row-major bytes; BYTES as a 4-byte little-endian length then the
 * bytes, per element; the JSON header's length in `Inference-Header-Content-Length`).
 */

export type V2DataType =
  | 'BOOL' | 'UINT8' | 'UINT16' | 'UINT32' | 'UINT64' | 'INT8' | 'INT16' | 'INT32' | 'INT64'
  | 'FP16' | 'FP32' | 'FP64' | 'BYTES';

/**
 * Element values on the client side: numbers (FP16 as its raw 16-bit pattern), bigints for the
 * 64-bit integer types, booleans for BOOL, strings or byte arrays for BYTES.
 */
export type Element = number | bigint | boolean | string | Uint8Array;

const BYTE_SIZE: Record<Exclude<V2DataType, 'BYTES'>, number> = {
  BOOL: 1, UINT8: 1, INT8: 1, UINT16: 2, INT16: 2, FP16: 2, UINT32: 4, INT32: 4, FP32: 4, UINT64: 8, INT64: 8, FP64: 8,
};

export function byteSize(datatype: Exclude<V2DataType, 'BYTES'>): number {
  return BYTE_SIZE[datatype];
}

/** Encodes elements as the binary tensor data extension sends them. */
export function encodeBinary(datatype: V2DataType, values: readonly Element[]): Buffer {
  if (datatype === 'BYTES') {
    const parts: Buffer[] = [];
    for (const v of values) {
      const bytes = typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v as Uint8Array);
      const len = Buffer.alloc(4);
      len.writeUInt32LE(bytes.byteLength, 0);
      parts.push(len, bytes);
    }
    return Buffer.concat(parts);
  }
  const size = BYTE_SIZE[datatype];
  const out = Buffer.alloc(values.length * size);
  values.forEach((v, i) => {
    const at = i * size;
    switch (datatype) {
      case 'BOOL': out.writeUInt8(v === true || v === 1 ? 1 : 0, at); break;
      case 'UINT8': out.writeUInt8(Number(v), at); break;
      case 'INT8': out.writeInt8(Number(v), at); break;
      case 'UINT16': out.writeUInt16LE(Number(v), at); break;
      case 'FP16': out.writeUInt16LE(Number(v), at); break;
      case 'INT16': out.writeInt16LE(Number(v), at); break;
      case 'UINT32': out.writeUInt32LE(Number(v), at); break;
      case 'INT32': out.writeInt32LE(Number(v), at); break;
      case 'FP32': out.writeFloatLE(Number(v), at); break;
      case 'FP64': out.writeDoubleLE(Number(v), at); break;
      case 'UINT64': out.writeBigUInt64LE(BigInt(v as number | bigint), at); break;
      case 'INT64': out.writeBigInt64LE(BigInt(v as number | bigint), at); break;
    }
  });
  return out;
}

/** Decodes binary tensor data; FP16 comes back as raw bit patterns, 64-bit integers as bigints, BYTES as Buffers. */
export function decodeBinary(datatype: V2DataType, bytes: Buffer): Element[] {
  if (datatype === 'BYTES') {
    const out: Element[] = [];
    let at = 0;
    while (at < bytes.byteLength) {
      if (at + 4 > bytes.byteLength) throw new Error(`BYTES: truncated length prefix at ${at}`);
      const len = bytes.readUInt32LE(at);
      at += 4;
      if (at + len > bytes.byteLength) throw new Error(`BYTES: element of ${len} bytes runs past the end`);
      out.push(Buffer.from(bytes.subarray(at, at + len)));
      at += len;
    }
    return out;
  }
  const size = BYTE_SIZE[datatype];
  if (bytes.byteLength % size !== 0) throw new Error(`${datatype}: ${bytes.byteLength} bytes is not a whole number of elements`);
  const out: Element[] = [];
  for (let at = 0; at < bytes.byteLength; at += size) {
    switch (datatype) {
      case 'BOOL': out.push(bytes.readUInt8(at) !== 0); break;
      case 'UINT8': out.push(bytes.readUInt8(at)); break;
      case 'INT8': out.push(bytes.readInt8(at)); break;
      case 'UINT16': case 'FP16': out.push(bytes.readUInt16LE(at)); break;
      case 'INT16': out.push(bytes.readInt16LE(at)); break;
      case 'UINT32': out.push(bytes.readUInt32LE(at)); break;
      case 'INT32': out.push(bytes.readInt32LE(at)); break;
      case 'FP32': out.push(bytes.readFloatLE(at)); break;
      case 'FP64': out.push(bytes.readDoubleLE(at)); break;
      case 'UINT64': out.push(bytes.readBigUInt64LE(at)); break;
      case 'INT64': out.push(bytes.readBigInt64LE(at)); break;
    }
  }
  return out;
}

/** IEEE 754 half-precision bits -> number (exact). */
export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

export interface JsonInput {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown;
  parameters?: Record<string, unknown>;
}

export interface BinaryInput {
  name: string;
  datatype: string;
  shape: number[];
  /** Raw bytes sent after the JSON header; `binary_data_size` is their length unless overridden. */
  binary: Buffer;
  parameters?: Record<string, unknown>;
}

export type RequestInput = JsonInput | BinaryInput;

export interface RequestOutput {
  name: string;
  parameters?: Record<string, unknown>;
}

export interface InferRequest {
  id?: string;
  parameters?: Record<string, unknown>;
  inputs: RequestInput[];
  outputs?: RequestOutput[];
}

export interface WireRequest {
  body: Buffer;
  headers: Record<string, string>;
}

/**
 * Builds the body of an infer request: plain JSON when every input carries `data`, otherwise the
 * JSON header (binary inputs get `binary_data_size`) followed by their bytes in input order.
 */
export function buildInferRequest(request: InferRequest): WireRequest {
  const chunks: Buffer[] = [];
  const inputs = request.inputs.map((input) => {
    if ('binary' in input) {
      chunks.push(input.binary);
      const { binary, ...rest } = input;
      return { ...rest, parameters: { binary_data_size: binary.byteLength, ...input.parameters } };
    }
    return input;
  });
  const header = Buffer.from(JSON.stringify({ ...request, inputs }), 'utf8');
  if (chunks.length === 0) return { body: header, headers: { 'content-type': 'application/json' } };
  return {
    body: Buffer.concat([header, ...chunks]),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.byteLength) },
  };
}

export interface HttpResult {
  status: number;
  headers: Headers;
  body: Buffer;
}

export async function httpRequest(url: string, method: string, body?: Buffer | string, headers: Record<string, string> = {}): Promise<HttpResult> {
  const init: RequestInit = { method, headers };
  if (body !== undefined) init.body = body;
  const res = await fetch(url, init);
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

export async function getJson(url: string): Promise<{ status: number; json: unknown }> {
  const res = await httpRequest(url, 'GET');
  return { status: res.status, json: parseJson(res) };
}

function parseJson(res: HttpResult): unknown {
  try {
    return JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new Error(`status ${res.status}: body is not JSON: ${res.body.toString('utf8').slice(0, 200)}`);
  }
}

export interface ResponseOutput {
  name: string;
  datatype: V2DataType;
  shape: number[];
  /** The JSON `data`, when the output came as JSON. */
  data?: unknown[];
  /** The binary bytes, when the output came as binary. */
  binary?: Buffer;
  parameters?: Record<string, unknown>;
}

export interface InferResponse {
  status: number;
  headers: Headers;
  /** The JSON part of the response, as text (for exact checks of 64-bit integers). */
  jsonText: string;
  json: {
    model_name: string;
    model_version?: string;
    id?: string;
    parameters?: Record<string, unknown>;
    outputs: ResponseOutput[];
    error?: string;
  };
  /** Outputs by name, with binary data attached. */
  outputs: Map<string, ResponseOutput>;
}

/** Splits a response into its JSON header and the binary outputs that follow, checking the sizes add up. */
export function parseInferResponse(res: HttpResult): InferResponse {
  const lengthHeader = res.headers.get('inference-header-content-length');
  const headerLength = lengthHeader === null ? res.body.byteLength : Number(lengthHeader);
  if (!Number.isInteger(headerLength) || headerLength < 0 || headerLength > res.body.byteLength) {
    throw new Error(`bad Inference-Header-Content-Length '${lengthHeader}' for a ${res.body.byteLength}-byte body`);
  }
  const jsonText = res.body.subarray(0, headerLength).toString('utf8');
  const json = JSON.parse(jsonText) as InferResponse['json'];
  const outputs = new Map<string, ResponseOutput>();
  let at = headerLength;
  for (const o of json.outputs ?? []) {
    const size = o.parameters?.binary_data_size;
    const out: ResponseOutput = { ...o };
    if (size !== undefined) {
      if (typeof size !== 'number' || at + size > res.body.byteLength) throw new Error(`output '${o.name}': binary_data_size ${String(size)} runs past the body`);
      out.binary = res.body.subarray(at, at + size);
      at += size;
    }
    outputs.set(o.name, out);
  }
  if (at !== res.body.byteLength) throw new Error(`${res.body.byteLength - at} trailing bytes after the binary outputs`);
  return { status: res.status, headers: res.headers, jsonText, json, outputs };
}

/** The elements of an output, whichever way it was sent (JSON data is flattened, row-major). */
export function outputValues(output: ResponseOutput): Element[] {
  if (output.binary) return decodeBinary(output.datatype, output.binary);
  if (!output.data) throw new Error(`output '${output.name}' has neither data nor binary_data_size`);
  return (output.data as unknown[]).flat(Infinity) as Element[];
}

export function inferPath(model: string, version?: string | number): string {
  return `/v2/models/${encodeURIComponent(model)}${version === undefined ? '' : `/versions/${version}`}/infer`;
}

/** Sends an infer request and parses the reply (200 or not). */
export async function infer(baseUrl: string, model: string, request: InferRequest, version?: string | number): Promise<InferResponse> {
  const wire = buildInferRequest(request);
  const res = await httpRequest(`${baseUrl}${inferPath(model, version)}`, 'POST', wire.body, wire.headers);
  if (res.status !== 200) {
    return { status: res.status, headers: res.headers, jsonText: res.body.toString('utf8'), json: parseJson(res) as InferResponse['json'], outputs: new Map() };
  }
  return parseInferResponse(res);
}

/** Posts raw bytes to a model's infer endpoint. */
export function postInfer(baseUrl: string, model: string, body: Buffer | string, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<HttpResult> {
  return httpRequest(`${baseUrl}${inferPath(model)}`, 'POST', body, headers);
}

/** The `error` string of a v2 error body; throws when the body is not `{"error": string}`. */
export function errorMessage(res: HttpResult): string {
  const json = parseJson(res) as { error?: unknown };
  if (typeof json !== 'object' || json === null || typeof json.error !== 'string') {
    throw new Error(`status ${res.status}: not a v2 error body: ${res.body.toString('utf8').slice(0, 200)}`);
  }
  return json.error;
}

/**
 * JSON.parse that keeps integers too long for a double exact: every integer literal of 16 or more
 * digits becomes a string (`BigInt(x)` reads it back). Meant for tensor data; does not look inside strings.
 */
export function parseJsonExact(text: string): unknown {
  return JSON.parse(text.replace(/([[,:]\s*)(-?\d{16,})(?=\s*[,\]}])/g, '$1"$2"'));
}

/** An output's JSON `data`, parsed with 64-bit integers exact (as bigints), from the response's JSON text. */
export function exactJsonValues(response: InferResponse, outputName: string): Element[] {
  const json = parseJsonExact(response.jsonText) as { outputs: { name: string; data?: unknown[] }[] };
  const out = json.outputs.find((o) => o.name === outputName);
  if (!out?.data) throw new Error(`output '${outputName}' has no JSON data`);
  return (out.data.flat(Infinity) as (number | string)[]).map((v) => BigInt(v));
}
