/**
 * Worker-thread side of the in-process USE-lite embedder: one onnxruntime session on this thread
 * (use-lite-session.ts), answering one batch at a time. onnxruntime-node's `run` computes synchronously
 * on the calling thread, so a thread per session keeps the main event loop answering HTTP meanwhile,
 * and two threads with one single-threaded session each use two cores without onnxruntime's intra-op
 * thread pool (whose barriers slow down badly when another process holds a core; measured).
 */
import { parentPort } from 'node:worker_threads';
import type { UseLiteRequest, UseLiteResponse } from './use-lite-protocol.js';
import { USE_DIMENSION } from './use-lite-graph.js';
import { UseLiteSession } from './use-lite-session.js';

const port = parentPort!;
let model: UseLiteSession | undefined;

try {
  model = await UseLiteSession.load(1);
  port.postMessage({ type: 'loaded', timing: model.timing } satisfies UseLiteResponse);
} catch (err) {
  port.postMessage({ type: 'failed', message: (err as Error).message } satisfies UseLiteResponse);
}

port.on('message', (m: UseLiteRequest) => {
  if (m.type === 'close') {
    void (model?.release() ?? Promise.resolve()).finally(() => process.exit(0));
    return;
  }
  model!.embed(m.texts).then(
    (vectors) => {
      // A copy we own, so its buffer can be transferred (onnxruntime's output buffer may not be).
      const data = vectors.slice();
      port.postMessage({ type: 'vectors', dimension: USE_DIMENSION, data } satisfies UseLiteResponse, [data.buffer]);
    },
    (err: unknown) => port.postMessage({ type: 'error', message: (err as Error).message } satisfies UseLiteResponse),
  );
});
