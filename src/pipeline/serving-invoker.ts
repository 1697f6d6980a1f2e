import type { TensorMap } from '../tensor/tensor.js';
import type { ModelInvoker } from './model-invoker.js';

/** The part of the serving lifecycle a model step needs: a version's context, which batches. */
export interface ModelResolver {
  resolve(model: string, version?: string): {
    infer(inputs: TensorMap, options: { outputs?: readonly string[] | undefined }): Promise<TensorMap>;
  };
}

/**
 * Model steps through the same scheduler as online requests: a step's inference joins the model's
 * queue and batches with whatever HTTP traffic is there.
 */
export class ServingModelInvoker implements ModelInvoker {
  constructor(private readonly models: ModelResolver) {}

  infer(model: string, inputs: TensorMap, options?: { version?: string; outputs?: readonly string[] }): Promise<TensorMap> {
    return this.models.resolve(model, options?.version).infer(inputs, { outputs: options?.outputs });
  }
}
