import * as tf from '@tensorflow/tfjs-core';
import { MpError } from '../../errors.js';
import type { DataType } from '../../tensor/datatype.js';
import type { Tensor } from '../../tensor/tensor.js';

const DATATYPE_BY_DTYPE: Readonly<Record<string, DataType>> = { float32: 'FP32', int32: 'INT32', bool: 'BOOL', string: 'BYTES' };

/** The v2 datatype of a TF.js dtype; undefined for ones Modelplane cannot carry (complex64). */
export function datatypeFromTfjs(dtype: string | undefined): DataType | undefined {
  return DATATYPE_BY_DTYPE[dtype ?? 'float32'];
}

/** Copies a Modelplane tensor into a TF.js tensor (the caller disposes it). */
export function toTfjsTensor(t: Tensor): tf.Tensor {
  const shape = [...t.shape];
  switch (t.datatype) {
    case 'FP32': return tf.tensor(t.data as Float32Array, shape, 'float32');
    case 'INT32': return tf.tensor(t.data as Int32Array, shape, 'int32');
    case 'BOOL': return tf.tensor(t.data as Uint8Array, shape, 'bool');
    case 'BYTES': return tf.tensor(t.data as Uint8Array[], shape, 'string');
    default: throw new MpError('MP_INVALID_ARG', `input '${t.name}': TF.js has no ${t.datatype} tensors (FP32, INT32, BOOL or BYTES)`);
  }
}

/** Reads a TF.js tensor back (awaiting the backend) into a Modelplane tensor named `name`. */
export async function fromTfjsTensor(name: string, value: tf.Tensor): Promise<Tensor> {
  const datatype = datatypeFromTfjs(value.dtype);
  if (!datatype) throw new MpError('MP_BACKEND', `output '${name}' has unsupported TF.js dtype ${value.dtype}`);
  const data = await value.data();
  const shape = [...value.shape];
  if (datatype === 'BYTES') return { name, datatype, shape, data: data as unknown as Uint8Array[] };
  if (datatype === 'BOOL') return { name, datatype, shape, data: Uint8Array.from(data as Uint8Array) };
  return { name, datatype, shape, data: data as Float32Array | Int32Array };
}
