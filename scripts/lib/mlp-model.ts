import { encodeModel, type Initializer, type Node } from '../../src/runtime/onnx/onnx-model-writer.js';
import { seededUnit as seededRandom } from '../../src/lifecycle/seeded-unit.js';

export interface MlpSpec {
  features: number;
  hidden: number[];
  classes: number;
  seed: number;
}

/**
 * A ReLU MLP classifier with a variable batch dimension:
 *   input FP32 [N, features] -> logits FP32 [N, classes], probabilities FP32 [N, classes], label INT64 [N].
 * Weights are drawn from a seeded uniform He-style initialisation, so every machine writes the same bytes.
 */
export function buildMlpModel(spec: MlpSpec): Uint8Array {
  const rand = seededRandom(spec.seed);
  const initializers: Initializer[] = [];
  const nodes: Node[] = [];
  const widths = [spec.features, ...spec.hidden, spec.classes];
  let current = 'input';
  for (let layer = 0; layer < widths.length - 1; layer++) {
    const fanIn = widths[layer]!;
    const fanOut = widths[layer + 1]!;
    const limit = Math.sqrt(6 / fanIn);
    const w = new Float32Array(fanIn * fanOut);
    for (let i = 0; i < w.length; i++) w[i] = (rand() * 2 - 1) * limit;
    const b = new Float32Array(fanOut);
    for (let i = 0; i < b.length; i++) b[i] = (rand() * 2 - 1) * 0.1;
    initializers.push({ name: `w${layer}`, dims: [fanIn, fanOut], data: w }, { name: `b${layer}`, dims: [fanOut], data: b });
    const isLast = layer === widths.length - 2;
    const gemmOut = isLast ? 'logits' : `h${layer}_pre`;
    nodes.push({ op: 'Gemm', inputs: [current, `w${layer}`, `b${layer}`], outputs: [gemmOut] });
    if (!isLast) {
      nodes.push({ op: 'Relu', inputs: [gemmOut], outputs: [`h${layer}`] });
      current = `h${layer}`;
    }
  }
  nodes.push({ op: 'Softmax', inputs: ['logits'], outputs: ['probabilities'], attributes: { axis: 1 } });
  nodes.push({ op: 'ArgMax', inputs: ['logits'], outputs: ['label'], attributes: { axis: 1, keepdims: 0 } });
  return encodeModel({
    name: 'mlp',
    inputs: [{ name: 'input', datatype: 'FP32', dims: ['batch', spec.features] }],
    outputs: [
      { name: 'logits', datatype: 'FP32', dims: ['batch', spec.classes] },
      { name: 'probabilities', datatype: 'FP32', dims: ['batch', spec.classes] },
      { name: 'label', datatype: 'INT64', dims: ['batch'] },
    ],
    nodes,
    initializers,
  });
}
