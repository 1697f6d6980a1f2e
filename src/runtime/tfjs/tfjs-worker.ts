/**
 * Worker-thread side of a TF.js instance: loads the model on this thread's own TF.js engine and
 * runs batches, so the main event loop keeps answering HTTP while the wasm kernels compute.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ModelInstance } from '../backend.js';
import { transferList, type WorkerRequest, type WorkerResponse } from '../worker-protocol.js';
import { bindCurrentThread } from '../cpu-affinity.js';
import { loadTfjsInstance, type TfjsWorkerInit } from './tfjs-backend.js';

const port = parentPort!;
const init = workerData as TfjsWorkerInit;
let instance: ModelInstance | undefined;

function reply(message: WorkerResponse, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

try {
  if (init.cpus !== undefined) bindCurrentThread(init.cpus);
  instance = await loadTfjsInstance(init.modelPath, init.modelType);
  reply({ type: 'loaded', signature: instance.signature });
} catch (err) {
  reply({ type: 'failed', message: (err as Error).message });
}

// Batches are answered in order: the pool sends this instance one batch at a time.
port.on('message', (message: WorkerRequest) => {
  if (message.type === 'release') {
    void (instance?.release() ?? Promise.resolve()).finally(() => process.exit(0));
    return;
  }
  const inputs = new Map(message.inputs.map((t) => [t.name, t]));
  instance!.run(inputs, message.outputs).then(
    (outputs) => reply({ type: 'result', id: message.id, outputs: [...outputs.values()] }, transferList(outputs.values())),
    (err: unknown) => reply({ type: 'error', id: message.id, message: (err as Error).message }),
  );
});
