import { MpError } from '../errors.js';
import { NUMERIC_TYPES, type DataType, type NumericArray, type TensorData } from './datatype.js';
import { fromHalfBits, toHalfBits } from './fp16.js';

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

/**
 * Converts the `data` of a JSON tensor (flat or nested, row-major) into typed memory in one pass,
 * checking every element's type and the element count against the shape. Never trusts `expected`
 * to be small: the caller bounds it (by the body size) before calling.
 */
export function decodeJsonData(tensorName: string, datatype: DataType, expected: number, data: unknown): TensorData {
  if (!Array.isArray(data)) {
    throw new MpError('MP_INVALID_ARG', `input '${tensorName}': 'data' must be an array`);
  }
  const flat = isFlat(data) ? data : flatten(tensorName, data, expected);
  if (flat.length !== expected) {
    throw new MpError(
      'MP_INVALID_ARG',
      `input '${tensorName}': shape holds ${expected} elements but data has ${flat.length}`,
    );
  }
  if (datatype === 'BYTES') return decodeBytes(tensorName, flat);
  return decodeNumeric(tensorName, datatype, flat);
}

function isFlat(data: unknown[]): boolean {
  return data.length === 0 || !Array.isArray(data[0]);
}

function flatten(tensorName: string, data: unknown[], limit: number): unknown[] {
  const out: unknown[] = [];
  const walk = (node: unknown[], depth: number): void => {
    if (depth > 64) throw new MpError('MP_INVALID_ARG', `input '${tensorName}': data is nested more than 64 levels`);
    for (const item of node) {
      if (Array.isArray(item)) walk(item, depth + 1);
      else {
        if (out.length >= limit) {
          throw new MpError('MP_INVALID_ARG', `input '${tensorName}': data has more elements than the shape's ${limit}`);
        }
        out.push(item);
      }
    }
  };
  walk(data, 0);
  return out;
}

function decodeBytes(tensorName: string, flat: unknown[]): Uint8Array[] {
  const out: Uint8Array[] = new Array<Uint8Array>(flat.length);
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i];
    if (typeof v !== 'string') {
      throw new MpError('MP_INVALID_ARG', `input '${tensorName}': BYTES element ${i} must be a string, got ${typeName(v)}`);
    }
    out[i] = utf8Encoder.encode(v);
  }
  return out;
}

function decodeNumeric(tensorName: string, datatype: Exclude<DataType, 'BYTES'>, flat: unknown[]): NumericArray {
  const info = NUMERIC_TYPES[datatype];
  const n = flat.length;
  const bad = (i: number, why: string): never => {
    throw new MpError('MP_INVALID_ARG', `input '${tensorName}': ${datatype} element ${i} ${why}, got ${preview(flat[i])}`);
  };
  switch (info.kind) {
    case 'bool': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (v === true || v === 1) out[i] = 1;
        else if (v !== false && v !== 0) bad(i, 'must be true or false');
      }
      return out;
    }
    case 'float': {
      const out = new info.ctor(n) as Float32Array | Float64Array;
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (typeof v === 'bigint') out[i] = Number(v);
        else if (typeof v !== 'number') bad(i, 'must be a number');
        else out[i] = v;
      }
      return out;
    }
    case 'fp16': {
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (typeof v !== 'number' && typeof v !== 'bigint') bad(i, 'must be a number');
        out[i] = toHalfBits(Number(v));
      }
      return out;
    }
    case 'int':
    case 'uint': {
      const out = new info.ctor(n) as Exclude<NumericArray, BigInt64Array | BigUint64Array>;
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (typeof v !== 'number' || !Number.isInteger(v)) bad(i, 'must be an integer');
        if ((v as number) < info.min || (v as number) > info.max) bad(i, `is out of range [${info.min}, ${info.max}]`);
        out[i] = v as number;
      }
      return out;
    }
    case 'bigint':
    case 'biguint': {
      // JSON numbers arrive as doubles: beyond ±2^53 the value may already have been rounded,
      // so it is refused rather than silently changed. The binary extension carries any 64-bit value.
      // Literals beyond ±2^53 arrive as BigInt from the exact parser; doubles that big have been
      // rounded already, so they are refused rather than silently changed.
      const signed = info.kind === 'bigint';
      const out = signed ? new BigInt64Array(n) : new BigUint64Array(n);
      const min = signed ? -(2n ** 63n) : 0n;
      const max = signed ? 2n ** 63n - 1n : 2n ** 64n - 1n;
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        let big: bigint;
        if (typeof v === 'bigint') big = v;
        else if (typeof v === 'number' && Number.isSafeInteger(v)) big = BigInt(v);
        else if (typeof v === 'number' && Number.isInteger(v)) return bad(i, 'is beyond ±2^53 and was rounded (send it as an integer literal or as binary data)');
        else return bad(i, 'must be an integer');
        if (big < min || big > max) bad(i, `is out of range [${min}, ${max}]`);
        out[i] = big;
      }
      return out;
    }
  }
}

/** Renders tensor data as a JSON array literal (flat, row-major), exact for 64-bit integers. */
export function encodeJsonData(datatype: DataType, data: TensorData): string {
  if (datatype === 'BYTES') {
    const strings = (data as Uint8Array[]).map((b) => utf8Decoder.decode(b));
    return JSON.stringify(strings);
  }
  const arr = data as NumericArray;
  switch (NUMERIC_TYPES[datatype].kind) {
    case 'bool': {
      const parts = new Array<string>(arr.length);
      for (let i = 0; i < arr.length; i++) parts[i] = arr[i] ? 'true' : 'false';
      return `[${parts.join(',')}]`;
    }
    case 'fp16': {
      const parts = new Array<number | null>(arr.length);
      for (let i = 0; i < arr.length; i++) parts[i] = finiteOrNull(fromHalfBits(arr[i] as number));
      return JSON.stringify(parts);
    }
    case 'float': {
      const text = `[${arr.join(',')}]`;
      // JSON has no NaN or Infinity; they become null (rare, so checked after the fast join).
      return text.includes('N') || text.includes('I') ? JSON.stringify(Array.from(arr as Float32Array, finiteOrNull)) : text;
    }
    default:
      return `[${arr.join(',')}]`;
  }
}

function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

function preview(v: unknown): string {
  const text = typeof v === 'string' ? JSON.stringify(v) : typeName(v) === 'object' || Array.isArray(v) ? typeName(v) : String(v);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
