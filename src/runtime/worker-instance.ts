import type { Worker } from 'node:worker_threads';
import { MpError } from '../errors.js';
import type { Tensor, TensorMap } from '../tensor/tensor.js';
import type { ModelInstance, ModelSignature } from './backend.js';
import { spawnWorker } from './spawn-worker.js';
import { ownedTensor, type WorkerRequest, type WorkerResponse } from './worker-protocol.js';

interface Pending {
  resolve(outputs: TensorMap): void;
  reject(error: MpError): void;
}

/**
 * A model instance in its own worker thread (any backend whose worker module speaks
 * worker-protocol): inference never blocks the thread that parses and answers requests.
 */
export class WorkerInstance implements ModelInstance {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private released = false;
  private exitError: MpError | undefined;

  private constructor(
    private readonly worker: Worker,
    readonly signature: ModelSignature,
    private readonly framework: string,
    readonly hugePageBytes: number | undefined,
  ) {
    worker.on('message', (m: WorkerResponse) => this.onMessage(m));
    worker.on('error', (err) => this.failAll(new MpError('MP_BACKEND', `instance thread failed: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => {
      if (!this.released) this.failAll(new MpError('MP_BACKEND', `instance thread exited with code ${code}`));
    });
  }

  /** Starts the worker module `script` (relative to `base`) with `init` and waits until it has loaded the model. */
  static start(base: string, script: string, init: object, framework: string): Promise<WorkerInstance> {
    const worker = spawnWorker(base, script, init);
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(new MpError('MP_BACKEND', `instance thread failed to start: ${err.message}`, { cause: err }));
      worker.once('error', onError);
      worker.once('message', (m: WorkerResponse) => {
        worker.off('error', onError);
        if (m.type === 'loaded') resolve(new WorkerInstance(worker, m.signature, framework, m.hugePageBytes));
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
    if (m.type === 'error') p.reject(new MpError('MP_BACKEND', `${this.framework}: ${m.message}`));
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
