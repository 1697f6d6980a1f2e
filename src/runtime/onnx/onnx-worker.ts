/**
 * Worker-thread side of an ONNX instance. onnxruntime-node runs inference synchronously on the
 * calling thread, so an instance in its own thread keeps the main event loop free to parse and
 * answer HTTP while the model computes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type ort from 'onnxruntime-node';
import type { Tensor, TensorMap } from '../../tensor/tensor.js';
import { bindCurrentThread } from '../cpu-affinity.js';
import { loadOnHugePages } from '../huge-pages.js';
import { createSession, fromOrtTensor, readSignature, sessionOptions, toOrtTensor } from './onnx-tensors.js';
import { transferList, type WorkerRequest, type WorkerResponse, type WorkerInit } from './worker-protocol.js';

const port = parentPort!;
const init = workerData as WorkerInit;
let session: ort.InferenceSession | undefined;

function reply(message: WorkerResponse, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

try {
  if (init.cpus !== undefined) bindCurrentThread(init.cpus);
  const loaded = await loadOnHugePages(init.onnx?.huge_pages ?? 'auto', () => createSession(init.modelPath, sessionOptions(init.onnx)));
  session = loaded.value;
  reply({ type: 'loaded', signature: readSignature(session, init.modelPath), hugePageBytes: loaded.hugePageBytes });
} catch (err) {
  reply({ type: 'failed', message: (err as Error).message });
}

port.on('message', (message: WorkerRequest) => {
  if (message.type === 'release') {
    void session?.release().finally(() => process.exit(0));
    return;
  }
  void run(message.id, message.inputs, message.outputs);
});

async function run(id: number, inputs: Tensor[], outputNames: string[]): Promise<void> {
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const t of inputs) feeds[t.name] = toOrtTensor(t);
    const results = await session!.run(feeds, outputNames);
    const outputs: Tensor[] = [];
    for (const name of outputNames) {
      const value = results[name];
      if (!value) throw new Error(`onnxruntime returned no output '${name}'`);
      outputs.push(fromOrtTensor(name, value));
    }
    const map: TensorMap = new Map(outputs.map((t) => [t.name, t]));
    reply({ type: 'result', id, outputs }, transferList(map.values()));
  } catch (err) {
    reply({ type: 'error', id, message: (err as Error).message });
  }
}
