import type { DataType } from '../../tensor/datatype.js';

/** v2 datatype <-> ONNX Runtime tensor type names. */
export const ORT_TYPE_BY_DATATYPE = {
  BOOL: 'bool', UINT8: 'uint8', UINT16: 'uint16', UINT32: 'uint32', UINT64: 'uint64',
  INT8: 'int8', INT16: 'int16', INT32: 'int32', INT64: 'int64',
  FP16: 'float16', FP32: 'float32', FP64: 'float64', BYTES: 'string',
} as const satisfies Record<DataType, string>;

export type OrtTypeName = (typeof ORT_TYPE_BY_DATATYPE)[DataType];

const DATATYPE_BY_ORT_TYPE: ReadonlyMap<string, DataType> = new Map(
  Object.entries(ORT_TYPE_BY_DATATYPE).map(([dt, ort]) => [ort, dt as DataType]),
);

export function datatypeFromOrt(type: string): DataType | undefined {
  return DATATYPE_BY_ORT_TYPE.get(type);
}
