import ort from 'onnxruntime-node';
import { MpError } from '../../errors.js';
import type { NumericArray } from '../../tensor/datatype.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { ModelSignature, TensorSignature } from '../backend.js';
import { ORT_TYPE_BY_DATATYPE, datatypeFromOrt } from './onnx-types.js';

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

export function toOrtTensor(tensor: Tensor): ort.Tensor {
  const dims = tensor.shape as number[];
  if (tensor.datatype === 'BYTES') {
    const strings = (tensor.data as Uint8Array[]).map((b) => utf8Decoder.decode(b));
    return new ort.Tensor('string', strings, dims);
  }
  return new ort.Tensor(ORT_TYPE_BY_DATATYPE[tensor.datatype] as 'float32', tensor.data as Float32Array, dims);
}

export function fromOrtTensor(name: string, value: ort.Tensor): Tensor {
  const datatype = datatypeFromOrt(value.type);
  if (!datatype) throw new MpError('MP_BACKEND', `output '${name}' has unsupported type ${value.type}`);
  const shape = value.dims.slice();
  if (datatype === 'BYTES') {
    return { name, datatype, shape, data: (value.data as string[]).map((s) => utf8Encoder.encode(s)) };
  }
  let data = value.data as NumericArray;
  // FP16 may come back as a Float16Array where the runtime has one; keep the raw 16-bit pattern.
  if (datatype === 'FP16' && !(data instanceof Uint16Array)) {
    const src = data as unknown as { buffer: ArrayBuffer; byteOffset: number; length: number };
    data = new Uint16Array(src.buffer, src.byteOffset, src.length);
  }
  return { name, datatype, shape, data };
}

export function sessionOptions(onnx: {
  intra_op_threads: number;
  inter_op_threads: number;
  execution_providers: readonly string[];
  graph_optimization_level: 'disabled' | 'basic' | 'extended' | 'all';
  allow_spinning: boolean;
} | undefined): ort.InferenceSession.SessionOptions {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: [...(onnx?.execution_providers ?? ['cpu'])],
    graphOptimizationLevel: onnx?.graph_optimization_level ?? 'all',
  };
  if (onnx && onnx.intra_op_threads > 0) options.intraOpNumThreads = onnx.intra_op_threads;
  if (onnx && onnx.inter_op_threads > 0) options.interOpNumThreads = onnx.inter_op_threads;
  if (onnx && !onnx.allow_spinning) options.extra = { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } };
  return options;
}

export function readSignature(session: ort.InferenceSession, modelPath: string): ModelSignature {
  const convert = (meta: readonly ort.InferenceSession.ValueMetadata[]): TensorSignature[] =>
    meta.map((m) => {
      if (!m.isTensor) throw new MpError('MP_UNSUPPORTED', `${modelPath}: '${m.name}' is not a tensor (sequences and maps are not supported)`);
      const datatype = datatypeFromOrt(m.type);
      if (!datatype) throw new MpError('MP_UNSUPPORTED', `${modelPath}: '${m.name}' has unsupported type ${m.type}`);
      return { name: m.name, datatype, shape: m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) };
    });
  return { inputs: convert(session.inputMetadata), outputs: convert(session.outputMetadata) };
}

export async function createSession(modelPath: string, options: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(modelPath, options);
  } catch (err) {
    throw new MpError('MP_BACKEND', `onnxruntime could not load ${modelPath}: ${(err as Error).message}`, { cause: err });
  }
}
