import { MpError } from '../../src/errors.js';
import type { ModelInvoker } from '../../src/pipeline/model-invoker.js';
import type { TensorMap } from '../../src/tensor/tensor.js';

/**
 * A small real model for tests: 'argmax' takes `input` FP32 [N, K] and returns `probabilities` FP32 [N, K]
 * (softmax) and `label` INT64 [N] (argmax), the output shapes of the example mlp-classifier. Counts calls.
 */
export class ArgmaxInvoker implements ModelInvoker {
  calls = 0;

  async infer(model: string, inputs: TensorMap, options?: { outputs?: readonly string[] }): Promise<TensorMap> {
    if (model !== 'argmax') throw new MpError('MP_MODEL_NOT_FOUND', `model '${model}' not found`);
    this.calls++;
    const x = inputs.get('input');
    if (!x || x.datatype !== 'FP32' || x.shape.length !== 2) throw new MpError('MP_INVALID_ARG', "input 'input' must be FP32 [N, K]");
    const [n, k] = x.shape as [number, number];
    const data = x.data as Float32Array;
    const probs = new Float32Array(n * k);
    const label = new BigInt64Array(n);
    for (let r = 0; r < n; r++) {
      let best = 0;
      let max = -Infinity;
      for (let c = 0; c < k; c++) if (data[r * k + c]! > max) { max = data[r * k + c]!; best = c; }
      let sum = 0;
      for (let c = 0; c < k; c++) sum += Math.exp(data[r * k + c]! - max);
      for (let c = 0; c < k; c++) probs[r * k + c] = Math.exp(data[r * k + c]! - max) / sum;
      label[r] = BigInt(best);
    }
    const out: TensorMap = new Map();
    const want = options?.outputs ?? ['probabilities', 'label'];
    if (want.includes('probabilities')) out.set('probabilities', { name: 'probabilities', datatype: 'FP32', shape: [n, k], data: probs });
    if (want.includes('label')) out.set('label', { name: 'label', datatype: 'INT64', shape: [n], data: label });
    return out;
  }
}
