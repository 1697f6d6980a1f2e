/**
 * A tiny BERT-shaped ONNX text encoder for tests of the Hugging Face tokenizer path: token states
 * are rows of a seeded embedding table, zeroed where the attention mask is 0.
 *   input_ids, attention_mask, token_type_ids: INT64 [batch, length] -> last_hidden_state: FP32 [batch, length, hidden]
 * (token_type_ids is accepted and unused, as BERT exports declare it.)
 */
import { encodeModel } from '../../src/runtime/onnx/onnx-model-writer.js';
import { seededUnit as seededRandom } from '../../src/lifecycle/seeded-unit.js';

export interface TextEncoderSpec {
  readonly vocabSize: number;
  readonly hidden: number;
  readonly seed: number;
}

/** The embedding table the model holds, row-major [vocabSize, hidden], values in [-1, 1). */
export function encoderTable(spec: TextEncoderSpec): Float32Array {
  const rand = seededRandom(spec.seed);
  return Float32Array.from({ length: spec.vocabSize * spec.hidden }, () => rand() * 2 - 1);
}

export function buildTextEncoderModel(spec: TextEncoderSpec): Uint8Array {
  const dims = ['batch', 'length'];
  return encodeModel({
    name: 'text_encoder',
    inputs: [
      { name: 'input_ids', datatype: 'INT64', dims },
      { name: 'attention_mask', datatype: 'INT64', dims },
      { name: 'token_type_ids', datatype: 'INT64', dims },
    ],
    outputs: [{ name: 'last_hidden_state', datatype: 'FP32', dims: ['batch', 'length', spec.hidden] }],
    nodes: [
      { op: 'Gather', inputs: ['table', 'input_ids'], outputs: ['states'], attributes: { axis: 0 } },
      { op: 'Cast', inputs: ['attention_mask'], outputs: ['mask_f'], attributes: { to: 1 } },
      { op: 'Unsqueeze', inputs: ['mask_f', 'last_axis'], outputs: ['mask3'] },
      { op: 'Mul', inputs: ['states', 'mask3'], outputs: ['masked'] },
      // Keeps token_type_ids a used input (ORT drops unused graph inputs from the signature): + 0 * types.
      { op: 'Cast', inputs: ['token_type_ids'], outputs: ['types_f'], attributes: { to: 1 } },
      { op: 'Mul', inputs: ['types_f', 'zero'], outputs: ['types_zero'] },
      { op: 'Unsqueeze', inputs: ['types_zero', 'last_axis'], outputs: ['types3'] },
      { op: 'Add', inputs: ['masked', 'types3'], outputs: ['last_hidden_state'] },
    ],
    initializers: [
      { name: 'table', dims: [spec.vocabSize, spec.hidden], data: encoderTable(spec) },
      { name: 'last_axis', dims: [1], data: new BigInt64Array([-1n]) },
      { name: 'zero', dims: [], data: new Float32Array([0]) },
    ],
  });
}
