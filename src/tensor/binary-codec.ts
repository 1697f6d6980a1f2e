import { MpError } from '../errors.js';
import { NUMERIC_TYPES, type DataType, type NumericArray, type TensorData } from './datatype.js';

/**
 * Binary tensor data extension: numeric tensors are raw little-endian row-major bytes; BYTES tensors
 * are each element's length as a 4-byte little-endian integer followed by its bytes.
 * Numeric data becomes a view on the request buffer when aligned, otherwise one copy.
 */
export function decodeBinaryData(tensorName: string, datatype: DataType, expected: number, chunk: Buffer): TensorData {
  if (datatype === 'BYTES') return decodeBinaryBytes(tensorName, expected, chunk);
  const info = NUMERIC_TYPES[datatype];
  const wanted = expected * info.bytesPerElement;
  if (chunk.byteLength !== wanted) {
    throw new MpError(
      'MP_INVALID_ARG',
      `input '${tensorName}': ${datatype} shape needs ${wanted} bytes of binary data but binary_data_size is ${chunk.byteLength}`,
    );
  }
  if (chunk.byteOffset % info.bytesPerElement === 0) {
    return new info.ctor(chunk.buffer as ArrayBuffer, chunk.byteOffset, expected);
  }
  const copy = new Uint8Array(wanted);
  copy.set(chunk);
  return new info.ctor(copy.buffer, 0, expected);
}

function decodeBinaryBytes(tensorName: string, expected: number, chunk: Buffer): Uint8Array[] {
  const out: Uint8Array[] = [];
  let offset = 0;
  while (offset < chunk.byteLength) {
    if (out.length >= expected) {
      throw new MpError('MP_INVALID_ARG', `input '${tensorName}': binary BYTES data holds more than the shape's ${expected} elements`);
    }
    if (offset + 4 > chunk.byteLength) {
      throw new MpError('MP_INVALID_ARG', `input '${tensorName}': binary BYTES element ${out.length} has a truncated length prefix`);
    }
    const len = chunk.readUInt32LE(offset);
    offset += 4;
    if (offset + len > chunk.byteLength) {
      throw new MpError('MP_INVALID_ARG', `input '${tensorName}': binary BYTES element ${out.length} claims ${len} bytes past the end of its data`);
    }
    out.push(chunk.subarray(offset, offset + len));
    offset += len;
  }
  if (out.length !== expected) {
    throw new MpError('MP_INVALID_ARG', `input '${tensorName}': shape holds ${expected} elements but binary BYTES data has ${out.length}`);
  }
  return out;
}

/** The raw bytes of tensor data as the binary extension sends them. Numeric data is not copied. */
export function encodeBinaryData(datatype: DataType, data: TensorData): Buffer {
  if (datatype !== 'BYTES') {
    const arr = data as NumericArray;
    return Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength);
  }
  const items = data as Uint8Array[];
  let total = 0;
  for (const item of items) total += 4 + item.byteLength;
  const out = Buffer.allocUnsafe(total);
  let offset = 0;
  for (const item of items) {
    out.writeUInt32LE(item.byteLength, offset);
    out.set(item, offset + 4);
    offset += 4 + item.byteLength;
  }
  return out;
}
