import { Worker } from 'node:worker_threads';
import type ort from 'onnxruntime-node';
import { MpError } from '../../errors.js';
import type { ModelConfig } from '../../config/model-config.js';
import type { Tensor, TensorMap } from '../../tensor/tensor.js';
import type { Backend, ModelInstance, ModelSignature } from '../backend.js';
import { createSession, fromOrtTensor, readSignature, sessionOptions, toOrtTensor } from './onnx-tensors.js';
import { ownedTensor, type WorkerInit, type WorkerRequest, type WorkerResponse } from './worker-protocol.js';

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
      const session = await createSession(modelPath, sessionOptions(config.onnx));
      return new InlineOnnxInstance(session, readSignature(session, modelPath));
    }
    return WorkerOnnxInstance.start({ modelPath, onnx: config ? { ...config.onnx, execution_providers: [...config.onnx.execution_providers] } : undefined });
  }
}

class InlineOnnxInstance implements ModelInstance {
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

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

const FROM_SOURCES = import.meta.url.endsWith('.ts');

/** The instance thread: compiled JS directly, or the TypeScript source through a tsx bootstrap. */
function spawnWorker(init: WorkerInit): Worker {
  if (!FROM_SOURCES) return new Worker(new URL('./onnx-worker.js', import.meta.url), { workerData: init });
  const tsWorkerUrl = new URL('./onnx-worker.ts', import.meta.url).href;
  return new Worker(new URL('../ts-worker-bootstrap.mjs', import.meta.url), { workerData: { ...init, tsWorkerUrl } });
}

interface Pending {
  resolve(outputs: TensorMap): void;
  reject(error: MpError): void;
}

class WorkerOnnxInstance implements ModelInstance {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private released = false;
  private exitError: MpError | undefined;

  private constructor(
    private readonly worker: Worker,
    readonly signature: ModelSignature,
  ) {
    worker.on('message', (m: WorkerResponse) => this.onMessage(m));
    worker.on('error', (err) => this.failAll(new MpError('MP_BACKEND', `instance thread failed: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => {
      if (!this.released) this.failAll(new MpError('MP_BACKEND', `instance thread exited with code ${code}`));
    });
  }

  static start(init: WorkerInit): Promise<WorkerOnnxInstance> {
    const worker = spawnWorker(init);
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(new MpError('MP_BACKEND', `instance thread failed to start: ${err.message}`, { cause: err }));
      worker.once('error', onError);
      worker.once('message', (m: WorkerResponse) => {
        worker.off('error', onError);
        if (m.type === 'loaded') resolve(new WorkerOnnxInstance(worker, m.signature));
        else {
          void worker.terminate();
          reject(new MpError('MP_BACKEND', m.type === 'failed' ? m.message : 'instance thread did not load'));
        }
      });
    });
  }

  run(inputs: TensorMap, outputNames: readonly string[]): Promise<TensorMap> {
    if (this.exitError) return Promise.reject(this.exitError);
    const id = this.nextId++;
    const tensors: Tensor[] = [];
    const transfer: ArrayBuffer[] = [];
    for (const t of inputs.values()) {
      const owned = ownedTensor(t);
      // Only buffers copied here may move to the thread; the caller's own buffers stay usable.
      if (owned !== t && !Array.isArray(owned.data)) transfer.push((owned.data as ArrayBufferView).buffer as ArrayBuffer);
      tensors.push(owned);
    }
    const message: WorkerRequest = { type: 'run', id, inputs: tensors, outputs: [...outputNames] };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage(message, transfer);
    });
  }

  private onMessage(m: WorkerResponse): void {
    if (m.type !== 'result' && m.type !== 'error') return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.type === 'error') p.reject(new MpError('MP_BACKEND', `onnxruntime: ${m.message}`));
    else p.resolve(new Map(m.outputs.map((t) => [t.name, t])));
  }

  private failAll(error: MpError): void {
    this.exitError = error;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage({ type: 'release' } satisfies WorkerRequest);
    const timeout = setTimeout(() => void this.worker.terminate(), 5000);
    await exited;
    clearTimeout(timeout);
  }
}
