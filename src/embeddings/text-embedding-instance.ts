import { MpError } from '../errors.js';
import type { Tensor, TensorMap } from '../tensor/tensor.js';
import type { ModelInstance, ModelSignature } from '../runtime/backend.js';
import { normalizeRows, poolTokens } from './pooling.js';
import type { TextEmbedder } from './text-embedder.js';

/** A padded sub-batch may waste at most this share of its token positions on padding. */
const MAX_PADDING_SHARE = 0.15;

/**
 * A text-embedding model as one model: texts (BYTES [batch]) in, vectors (FP32 [batch, dim]) and
 * token counts (INT32 [batch]) out. Wraps the encoder's own instance (any backend): tokenizes,
 * builds its inputs, pools and normalises its output.
 */
export class TextEmbeddingInstance implements ModelInstance {
  readonly signature: ModelSignature;
  private readonly encoderOutput: string;

  private constructor(private readonly encoder: ModelInstance, private readonly embedder: TextEmbedder, readonly dim: number, encoderOutput: string) {
    const c = embedder.config;
    this.encoderOutput = encoderOutput;
    this.signature = {
      inputs: [{ name: c.input_name, datatype: 'BYTES', shape: [-1] }],
      outputs: [
        { name: c.output_name, datatype: 'FP32', shape: [-1, dim] },
        { name: c.token_count_name, datatype: 'INT32', shape: [-1] },
      ],
    };
  }

  /** Wraps an encoder instance, learning the vector size from one probe run. */
  static async wrap(encoder: ModelInstance, embedder: TextEmbedder, where: string): Promise<TextEmbeddingInstance> {
    const c = embedder.config;
    const names = new Set(encoder.signature.inputs.map((i) => i.name));
    const needed = c.encoder_inputs.kind === 'sparse'
      ? [c.encoder_inputs.indices, c.encoder_inputs.values]
      : [c.encoder_inputs.input_ids, c.encoder_inputs.attention_mask, ...(c.encoder_inputs.token_type_ids ? [c.encoder_inputs.token_type_ids] : [])];
    for (const n of needed) {
      if (!names.has(n)) throw new MpError('MP_CONFIG_INVALID', `${where}: text_embedding.encoder_inputs: the encoder has no input '${n}' (it has ${[...names].map((x) => `'${x}'`).join(', ')})`);
    }
    const output = c.encoder_output ?? encoder.signature.outputs[0]?.name;
    if (!output || !encoder.signature.outputs.some((o) => o.name === output)) {
      throw new MpError('MP_CONFIG_INVALID', `${where}: text_embedding.encoder_output: the encoder has no output '${output ?? ''}'`);
    }
    const probe = new TextEmbeddingInstance(encoder, embedder, 0, output);
    const vectors = await probe.embedIds([embedder.tokenizer.encode('probe')]);
    const dim = vectors.length;
    if (dim === 0) throw new MpError('MP_CONFIG_INVALID', `${where}: the encoder returned an empty vector`);
    const bad = c.dimensions.find((d) => d > dim);
    if (bad !== undefined) throw new MpError('MP_CONFIG_INVALID', `${where}: text_embedding.dimensions: ${bad} exceeds the model's ${dim}`);
    return new TextEmbeddingInstance(encoder, embedder, dim, output);
  }

  async run(inputs: TensorMap, outputNames: readonly string[]): Promise<TensorMap> {
    const c = this.embedder.config;
    const texts = inputs.get(c.input_name);
    if (!texts || texts.datatype !== 'BYTES') throw new MpError('MP_INVALID_ARG', `missing BYTES input '${c.input_name}'`);
    const items = texts.data as Uint8Array[];
    const ids = items.map((item) => this.embedder.idsOf(item));
    const vectors = await this.embedIds(ids);
    const out: TensorMap = new Map();
    const rows = items.length;
    for (const name of outputNames) {
      if (name === c.output_name) out.set(name, { name, datatype: 'FP32', shape: [rows, vectors.length / Math.max(1, rows)], data: vectors });
      else if (name === c.token_count_name) out.set(name, { name, datatype: 'INT32', shape: [rows], data: Int32Array.from(ids, (x) => x.length) });
      else throw new MpError('MP_INVALID_ARG', `unknown output '${name}'`);
    }
    return out;
  }

  /** Vectors [rows, dim] for token id lists; an empty list gets a zero vector without running. */
  private async embedIds(ids: readonly number[][]): Promise<Float32Array> {
    const c = this.embedder.config;
    const live = ids.map((_, i) => i).filter((i) => ids[i]!.length > 0);
    let dim = this.dim;
    const chunks = c.encoder_inputs.kind === 'sparse' ? [live] : lengthGroups(live, ids);
    const results: Array<{ rows: number[]; vectors: Float32Array }> = [];
    for (const rows of chunks) {
      if (rows.length === 0) continue;
      const vectors = await this.runEncoder(rows.map((r) => ids[r]!));
      dim = vectors.length / rows.length;
      results.push({ rows, vectors });
    }
    const out = new Float32Array(ids.length * dim);
    for (const { rows, vectors } of results) rows.forEach((r, k) => out.set(vectors.subarray(k * dim, (k + 1) * dim), r * dim));
    if (c.normalize) normalizeRows(out, ids.length, dim);
    return out;
  }

  private async runEncoder(ids: readonly number[][]): Promise<Float32Array> {
    const c = this.embedder.config;
    const enc = c.encoder_inputs;
    const feeds: TensorMap = new Map();
    let mask: Uint8Array | undefined;
    let length = 0;
    if (enc.kind === 'sparse') {
      const n = ids.reduce((s, r) => s + r.length, 0);
      const indices = new Int32Array(n * 2);
      const values = new Int32Array(n);
      let k = 0;
      ids.forEach((row, r) => row.forEach((id, p) => {
        indices[2 * k] = r;
        indices[2 * k + 1] = p;
        values[k++] = id;
      }));
      feeds.set(enc.indices, { name: enc.indices, datatype: 'INT32', shape: [n, 2], data: indices });
      feeds.set(enc.values, { name: enc.values, datatype: 'INT32', shape: [n], data: values });
    } else {
      length = Math.max(...ids.map((r) => r.length));
      mask = new Uint8Array(ids.length * length);
      const big = enc.datatype === 'INT64';
      const idData = big ? new BigInt64Array(ids.length * length) : new Int32Array(ids.length * length);
      const maskData = big ? new BigInt64Array(ids.length * length) : new Int32Array(ids.length * length);
      let real = 0;
      ids.forEach((row, r) => {
        real += row.length;
        for (let p = 0; p < length; p++) {
          const on = p < row.length;
          mask![r * length + p] = on ? 1 : 0;
          if (big) {
            (idData as BigInt64Array)[r * length + p] = BigInt(on ? row[p]! : enc.pad_id);
            (maskData as BigInt64Array)[r * length + p] = on ? 1n : 0n;
          } else {
            (idData as Int32Array)[r * length + p] = on ? row[p]! : enc.pad_id;
            (maskData as Int32Array)[r * length + p] = on ? 1 : 0;
          }
        }
      });
      this.embedder.padding.computedTokens += ids.length * length;
      this.embedder.padding.paddingTokens += ids.length * length - real;
      const shape = [ids.length, length];
      feeds.set(enc.input_ids, { name: enc.input_ids, datatype: enc.datatype, shape, data: idData });
      feeds.set(enc.attention_mask, { name: enc.attention_mask, datatype: enc.datatype, shape, data: maskData });
      if (enc.token_type_ids) {
        const zeros = big ? new BigInt64Array(ids.length * length) : new Int32Array(ids.length * length);
        feeds.set(enc.token_type_ids, { name: enc.token_type_ids, datatype: enc.datatype, shape, data: zeros });
      }
    }
    const result = (await this.encoder.run(feeds, [this.encoderOutput])).get(this.encoderOutput);
    if (!result || result.datatype !== 'FP32') throw new MpError('MP_BACKEND', `the encoder returned no FP32 output '${this.encoderOutput}'`);
    return this.pool(result, ids.length, length, mask);
  }

  private pool(result: Tensor, rows: number, length: number, mask: Uint8Array | undefined): Float32Array {
    const c = this.embedder.config;
    const data = result.data as Float32Array;
    if (c.pooling === 'none') {
      if (result.shape.length !== 2 || result.shape[0] !== rows) throw new MpError('MP_BACKEND', `encoder output [${result.shape.join(',')}] is not [${rows}, dim] (set text_embedding.pooling)`);
      // No copy: embedIds only reads these rows into its own array, which it then normalises.
      return data;
    }
    if (result.shape.length !== 3 || result.shape[0] !== rows || result.shape[1] !== length || !mask) {
      throw new MpError('MP_BACKEND', `encoder output [${result.shape.join(',')}] is not [${rows}, ${length}, dim] for ${c.pooling} pooling`);
    }
    return poolTokens(data, rows, length, result.shape[2]!, mask, c.pooling);
  }

  release(): Promise<void> {
    // The version is going away: none of its cached answers may be served again.
    this.embedder.cache?.clear();
    return this.encoder.release();
  }
}

/**
 * Splits rows into runs of similar length (sorted, a new run whenever padding would pass
 * MAX_PADDING_SHARE of the run's positions), so short texts are not padded to the longest one.
 */
export function lengthGroups(rows: readonly number[], ids: readonly (readonly number[])[]): number[][] {
  const sorted = [...rows].sort((a, b) => ids[a]!.length - ids[b]!.length);
  const groups: number[][] = [];
  let group: number[] = [];
  let real = 0;
  for (const r of sorted) {
    const len = ids[r]!.length;
    const positions = (group.length + 1) * len; // sorted ascending: this row is the new longest
    if (group.length > 0 && positions - (real + len) > MAX_PADDING_SHARE * positions) {
      groups.push(group);
      group = [];
      real = 0;
    }
    group.push(r);
    real += len;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}
