import type ort from 'onnxruntime-node';
import { MpError } from '../../errors.js';
import type { ModelConfig } from '../../config/model-config.js';
import type { Tensor, TensorMap } from '../../tensor/tensor.js';
import type { Backend, ModelInstance, ModelSignature } from '../backend.js';
import { createSession, fromOrtTensor, readSignature, sessionOptions, toOrtTensor } from './onnx-tensors.js';
import { checkAffinitySupported, expandCpuList } from '../cpu-affinity.js';
import { loadOnHugePages } from '../huge-pages.js';
import { WorkerInstance } from '../worker-instance.js';
import type { WorkerInit } from './worker-protocol.js';

/**
 * ONNX Runtime behind the Backend interface: one InferenceSession per instance, by default in its
 * own worker thread (`instance_kind: worker`), or on the main thread (`inline`).
 */
export class OnnxBackend implements Backend {
  readonly name = 'onnx' as const;
  readonly platform = 'onnxruntime_onnx';

  /** ONNX Runtime's string tensors are C strings of text: a NUL would cut them, invalid UTF-8 would be replaced. */
  checkInput(tensor: Tensor): string | undefined {
    if (tensor.datatype !== 'BYTES') return undefined;
    const items = tensor.data as Uint8Array[];
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (item.includes(0)) return `BYTES element ${i} contains a NUL byte, which ONNX Runtime string tensors cannot hold`;
      try {
        strictUtf8.decode(item);
      } catch {
        return `BYTES element ${i} is not valid UTF-8, which ONNX Runtime string tensors require`;
      }
    }
    return undefined;
  }

  async createInstance(modelPath: string, config: ModelConfig | undefined): Promise<ModelInstance> {
    if (config?.instance_kind === 'inline') {
      const { value: session, hugePageBytes } = await loadOnHugePages(config.onnx.huge_pages, () => createSession(modelPath, sessionOptions(config.onnx)));
      return new InlineOnnxInstance(session, readSignature(session, modelPath), hugePageBytes);
    }
    if (config?.instance_cpus !== undefined) checkAffinitySupported();
    const init: WorkerInit = { modelPath, cpus: config?.instance_cpus, onnx: config ? workerOnnxOptions(config) : undefined };
    return WorkerInstance.start(import.meta.url, './onnx-worker', init, 'onnxruntime');
  }
}

/**
 * The ONNX Runtime options of an instance thread. With instance_cpus and intra_op_threads left at 0,
 * one intra-op thread per CPU given: left to itself ORT sizes its pool by the machine's cores (and may
 * pin the threads to cores of its choosing), oversubscribing the CPUs the instance was bound to.
 */
export function workerOnnxOptions(config: ModelConfig): NonNullable<WorkerInit['onnx']> {
  const onnx = { ...config.onnx, execution_providers: [...config.onnx.execution_providers] };
  if (config.instance_cpus !== undefined && onnx.intra_op_threads === 0) onnx.intra_op_threads = expandCpuList(config.instance_cpus).length;
  return onnx;
}

class InlineOnnxInstance implements ModelInstance {
  private released = false;
  constructor(
    private readonly session: ort.InferenceSession,
    readonly signature: ModelSignature,
    readonly hugePageBytes: number | undefined,
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

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
