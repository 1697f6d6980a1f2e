/**
 * The Open Inference Protocol (KServe v2) tensor datatypes and how each is held in memory.
 * BOOL is one byte per element; FP16 is held as its raw 16-bit pattern (Node 20 has no Float16Array).
 */
export const DATATYPES = [
  'BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES',
] as const;

export type DataType = (typeof DATATYPES)[number];

export type NumericArray =
  | Uint8Array | Uint16Array | Uint32Array | BigUint64Array
  | Int8Array | Int16Array | Int32Array | BigInt64Array
  | Float32Array | Float64Array;

/** BYTES tensors are a list of byte strings, one per element. */
export type BytesArray = Uint8Array[];
export type TensorData = NumericArray | BytesArray;

type TypedArrayConstructor =
  | Uint8ArrayConstructor | Uint16ArrayConstructor | Uint32ArrayConstructor | BigUint64ArrayConstructor
  | Int8ArrayConstructor | Int16ArrayConstructor | Int32ArrayConstructor | BigInt64ArrayConstructor
  | Float32ArrayConstructor | Float64ArrayConstructor;

export interface NumericTypeInfo {
  readonly kind: 'bool' | 'uint' | 'int' | 'bigint' | 'biguint' | 'fp16' | 'float';
  readonly bytesPerElement: number;
  readonly ctor: TypedArrayConstructor;
  /** Inclusive bounds for integer kinds; used to reject values that would wrap. */
  readonly min: number;
  readonly max: number;
}

export const NUMERIC_TYPES: Readonly<Record<Exclude<DataType, 'BYTES'>, NumericTypeInfo>> = {
  BOOL: { kind: 'bool', bytesPerElement: 1, ctor: Uint8Array, min: 0, max: 1 },
  UINT8: { kind: 'uint', bytesPerElement: 1, ctor: Uint8Array, min: 0, max: 0xff },
  UINT16: { kind: 'uint', bytesPerElement: 2, ctor: Uint16Array, min: 0, max: 0xffff },
  UINT32: { kind: 'uint', bytesPerElement: 4, ctor: Uint32Array, min: 0, max: 0xffffffff },
  UINT64: { kind: 'biguint', bytesPerElement: 8, ctor: BigUint64Array, min: 0, max: Number.MAX_SAFE_INTEGER },
  INT8: { kind: 'int', bytesPerElement: 1, ctor: Int8Array, min: -0x80, max: 0x7f },
  INT16: { kind: 'int', bytesPerElement: 2, ctor: Int16Array, min: -0x8000, max: 0x7fff },
  INT32: { kind: 'int', bytesPerElement: 4, ctor: Int32Array, min: -0x80000000, max: 0x7fffffff },
  INT64: { kind: 'bigint', bytesPerElement: 8, ctor: BigInt64Array, min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER },
  FP16: { kind: 'fp16', bytesPerElement: 2, ctor: Uint16Array, min: -Infinity, max: Infinity },
  FP32: { kind: 'float', bytesPerElement: 4, ctor: Float32Array, min: -Infinity, max: Infinity },
  FP64: { kind: 'float', bytesPerElement: 8, ctor: Float64Array, min: -Infinity, max: Infinity },
};

const DATATYPE_SET: ReadonlySet<string> = new Set(DATATYPES);

export function isDataType(value: string): value is DataType {
  return DATATYPE_SET.has(value);
}

/** Product of a shape's dimensions; the caller has already checked each is a non-negative integer. */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
