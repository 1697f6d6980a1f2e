import { MpError } from '../errors.js';
import type { ModelConfig } from '../config/model-config.js';
import type { Backend, ModelInstance } from '../runtime/backend.js';
import type { Tensor, TensorMap } from '../tensor/tensor.js';
import type { EmbeddingCache } from '../embeddings/embedding-cache.js';
import { TextEmbedder, type PaddingStats } from '../embeddings/text-embedder.js';
import { TextEmbeddingInstance } from '../embeddings/text-embedding-instance.js';
import { ImageModelInstance, ImagePreprocessor, imageTarget } from './image/image-model-instance.js';

/** Request-time admission for a model with pre-processing. */
export interface RequestAdmission {
  /**
   * Validates (and pre-processes) the inputs before they queue: tokenizes texts, decodes images.
   * Returns the request's token count (0 for non-text models), or a promise of it when the work is async.
   */
  admit(inputs: TensorMap, truncate: boolean | undefined): number | Promise<number>;
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
  if (text && declared.image) throw new MpError('MP_CONFIG_INVALID', `${where}: text_embedding and image cannot both be set`);
  if (declared.image) return imageFactory(backend, modelPath, declared, where);
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

/** Image models: the first instance fixes the target size; images are decoded at admission. */
function imageFactory(backend: Backend, modelPath: string, declared: ModelConfig, where: string): InstanceFactory {
  const image = declared.image!;
  let pre: ImagePreprocessor | undefined;
  return {
    textEmbedder: undefined,
    admission: {
      admit: (inputs) => {
        if (!pre) throw new MpError('MP_MODEL_NOT_READY', `${where}: the image model is still loading`);
        return pre.admit(inputs.get(image.input_name) as Tensor);
      },
    },
    async create(config) {
      const encoder = await backend.createInstance(modelPath, config);
      try {
        const target = imageTarget(encoder, image, where);
        pre ??= new ImagePreprocessor(image, target.width, target.height, `model '${declared.name}'`);
        const instance = new ImageModelInstance(encoder, pre, target.input.name, where);
        // The config's warm-up cannot make an image from its sample strings: warm the encoder here.
        await instance.warm();
        return instance;
      } catch (err) {
        await encoder.release();
        throw err;
      }
    },
  };
}
