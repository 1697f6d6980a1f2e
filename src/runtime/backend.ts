import type { DataType } from '../tensor/datatype.js';
import type { Tensor, TensorMap } from '../tensor/tensor.js';
import type { ModelConfig } from '../config/model-config.js';

/** One input or output as the model file declares it: full shape, batch dimension included, -1 = variable. */
export interface TensorSignature {
  readonly name: string;
  readonly datatype: DataType;
  readonly shape: readonly number[];
}

export interface ModelSignature {
  readonly inputs: readonly TensorSignature[];
  readonly outputs: readonly TensorSignature[];
}

/**
 * One loaded copy of a model that can execute one batch at a time.
 * Contract: `run` may be called again only after the previous call settled (the instance pool
 * guarantees this); the returned tensors belong to the caller.
 */
export interface ModelInstance {
  readonly signature: ModelSignature;
  /** Bytes of this instance's memory (its weights) on huge pages (src/runtime/huge-pages.ts), when any. */
  readonly hugePageBytes?: number;
  run(inputs: TensorMap, outputNames: readonly string[]): Promise<TensorMap>;
  /** Frees native memory. Idempotent. */
  release(): Promise<void>;
}

/** A framework that can load model files (ONNX Runtime today; TF.js next to it). */
export interface Backend {
  readonly name: ModelConfig['backend'];
  /** The platform string reported in model metadata, as Triton names it. */
  readonly platform: string;
  createInstance(modelPath: string, config: ModelConfig | undefined): Promise<ModelInstance>;
  /**
   * Refuses an input the framework cannot represent faithfully (returns why), so the request gets a
   * 400 of its own instead of failing, or silently changing, a whole batch later.
   */
  checkInput?(tensor: Tensor): string | undefined;
}
