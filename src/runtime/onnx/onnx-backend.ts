import ort from 'onnxruntime-node';
import { MpError } from '../../errors.js';
import type { ModelConfig } from '../../config/model-config.js';
import type { NumericArray } from '../../tensor/datatype.js';
import type { Tensor, TensorMap } from '../../tensor/tensor.js';
import type { Backend, ModelInstance, ModelSignature, TensorSignature } from '../backend.js';
import { ORT_TYPE_BY_DATATYPE, datatypeFromOrt } from './onnx-types.js';

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** ONNX Runtime behind the Backend interface: one InferenceSession per instance. */
export class OnnxBackend implements Backend {
  readonly name = 'onnx' as const;
  readonly platform = 'onnxruntime_onnx';

  async createInstance(modelPath: string, config: ModelConfig | undefined): Promise<ModelInstance> {
    const options = sessionOptions(config);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(modelPath, options);
    } catch (err) {
      throw new MpError('MP_BACKEND', `onnxruntime could not load ${modelPath}: ${(err as Error).message}`, { cause: err });
    }
    return new OnnxInstance(session, readSignature(session, modelPath));
  }
}

function sessionOptions(config: ModelConfig | undefined): ort.InferenceSession.SessionOptions {
  const onnx = config?.onnx;
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: onnx?.execution_providers ?? ['cpu'],
    graphOptimizationLevel: onnx?.graph_optimization_level ?? 'all',
  };
  if (onnx && onnx.intra_op_threads > 0) options.intraOpNumThreads = onnx.intra_op_threads;
  if (onnx && onnx.inter_op_threads > 0) options.interOpNumThreads = onnx.inter_op_threads;
  return options;
}

function readSignature(session: ort.InferenceSession, modelPath: string): ModelSignature {
  const convert = (meta: readonly ort.InferenceSession.ValueMetadata[]): TensorSignature[] =>
    meta.map((m) => {
      if (!m.isTensor) throw new MpError('MP_UNSUPPORTED', `${modelPath}: '${m.name}' is not a tensor (sequences and maps are not supported)`);
      const datatype = datatypeFromOrt(m.type);
      if (!datatype) throw new MpError('MP_UNSUPPORTED', `${modelPath}: '${m.name}' has unsupported type ${m.type}`);
      return { name: m.name, datatype, shape: m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) };
    });
  return { inputs: convert(session.inputMetadata), outputs: convert(session.outputMetadata) };
}

class OnnxInstance implements ModelInstance {
  private released = false;
  constructor(
    private readonly session: ort.InferenceSession,
    readonly signature: ModelSignature,
  ) {}

  async run(inputs: TensorMap, outputNames: readonly string[]): Promise<TensorMap> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const tensor of inputs.values()) feeds[tensor.name] = toOrtTensor(tensor);
    let results: ort.InferenceSession.ReturnType;
    try {
      results = await this.session.run(feeds, outputNames as string[]);
    } catch (err) {
      throw new MpError('MP_BACKEND', `onnxruntime: ${(err as Error).message}`, { cause: err });
    }
    const out: TensorMap = new Map();
    for (const name of outputNames) {
      const value = results[name];
      if (!value) throw new MpError('MP_BACKEND', `onnxruntime returned no output '${name}'`);
      out.set(name, fromOrtTensor(name, value));
    }
    return out;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.session.release();
  }
}

function toOrtTensor(tensor: Tensor): ort.Tensor {
  const type = ORT_TYPE_BY_DATATYPE[tensor.datatype];
  const dims = tensor.shape as number[];
  if (tensor.datatype === 'BYTES') {
    const strings = (tensor.data as Uint8Array[]).map((b) => utf8Decoder.decode(b));
    return new ort.Tensor('string', strings, dims);
  }
  return new ort.Tensor(type as 'float32', tensor.data as Float32Array, dims);
}

function fromOrtTensor(name: string, value: ort.Tensor): Tensor {
  const datatype = datatypeFromOrt(value.type);
  if (!datatype) throw new MpError('MP_BACKEND', `output '${name}' has unsupported type ${value.type}`);
  const shape = value.dims.slice();
  if (datatype === 'BYTES') {
    const data = (value.data as string[]).map((s) => utf8Encoder.encode(s));
    return { name, datatype, shape, data };
  }
  let data = value.data as NumericArray | Uint8Array;
  // ORT hands BOOL back as a Uint8Array already; FP16 may come as a Float16Array where the runtime has one.
  if (datatype === 'FP16' && !(data instanceof Uint16Array)) {
    const src = data as unknown as { buffer: ArrayBuffer; byteOffset: number; length: number };
    data = new Uint16Array(src.buffer, src.byteOffset, src.length);
  }
  return { name, datatype, shape, data };
}
