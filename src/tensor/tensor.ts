import type { DataType, TensorData } from './datatype.js';

/** A named tensor: row-major data plus its shape. BYTES data is a list of byte strings. */
export interface Tensor {
  readonly name: string;
  readonly datatype: DataType;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

/** Tensors keyed by name, as inputs to or outputs from a backend. */
export type TensorMap = Map<string, Tensor>;
