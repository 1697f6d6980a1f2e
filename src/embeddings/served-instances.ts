import type { ModelConfig } from '../config/model-config.js';
import type { Backend, ModelInstance } from '../runtime/backend.js';
import type { Tensor, TensorMap } from '../tensor/tensor.js';
import type { EmbeddingCache } from './embedding-cache.js';
import { TextEmbedder, type PaddingStats } from './text-embedder.js';
import { TextEmbeddingInstance } from './text-embedding-instance.js';

/** Request-time admission for a model with pre-processing. */
export interface RequestAdmission {
  /** Validates the inputs (e.g. tokenizes them) before they queue; returns the request's token count. */
  admit(inputs: TensorMap, truncate: boolean | undefined): number;
  /** A BYTES element that stands for already-tokenized ids (valid only in this process). */
  pretokenized?(ids: readonly number[]): Uint8Array;
  /** The version's embeddings response cache, when enabled. */
  readonly cache?: EmbeddingCache | undefined;
  /** Shares of padded token positions that were padding, for the padded encoders' metrics. */
  readonly padding?: PaddingStats | undefined;
}

/** How one model version's instances are made: the backend's own, or wrapped with text processing. */
export interface InstanceFactory {
  create(config: ModelConfig): Promise<ModelInstance>;
  /** Set for models whose pre-processing checks requests before they queue. */
  readonly admission: RequestAdmission | undefined;
  readonly textEmbedder: TextEmbedder | undefined;
}

/** Reads the processing declared in the config (tokenizer files from the version directory) once per version. */
export async function instanceFactory(backend: Backend, modelPath: string, declared: ModelConfig, versionDir: string, where: string): Promise<InstanceFactory> {
  const text = declared.text_embedding;
  if (!text) return { create: (config) => backend.createInstance(modelPath, config), admission: undefined, textEmbedder: undefined };
  const embedder = await TextEmbedder.load(text, versionDir, where, `model '${declared.name}'`);
  return {
    textEmbedder: embedder,
    admission: {
      admit: (inputs, truncate) => embedder.admit(inputs.get(text.input_name) as Tensor, truncate),
      pretokenized: (ids) => embedder.pretokenized(ids),
      cache: embedder.cache,
      padding: embedder.padding,
    },
    async create(config) {
      const encoder = await backend.createInstance(modelPath, config);
      try {
        return await TextEmbeddingInstance.wrap(encoder, embedder, where);
      } catch (err) {
        await encoder.release();
        throw err;
      }
    },
  };
}
