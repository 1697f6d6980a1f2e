import { MpError } from '../errors.js';
import type { CancelSignal, ServingContext } from '../lifecycle/serving-context.js';
import type { TensorMap } from '../tensor/tensor.js';
import { EmbeddingCache } from './embedding-cache.js';
import { normalizeRows } from './pooling.js';

/** The most texts one embeddings request may carry (OpenAI's limit). */
export const MAX_INPUTS_PER_REQUEST = 2048;

export interface EmbedOptions {
  /** Cut texts longer than max_tokens (true), refuse them (false), or follow the model (undefined). */
  readonly truncate?: boolean | undefined;
  /** A shorter vector size the model allows (text_embedding.dimensions); undefined = full size. */
  readonly dimensions?: number | undefined;
  readonly signal?: CancelSignal | undefined;
}

export interface EmbedResult {
  /** One vector per input, in input order (without a cache, views into one buffer: read them, do not keep them). */
  readonly vectors: Float32Array[];
  /** Tokens per input after truncation. */
  readonly tokenCounts: Int32Array;
  readonly promptTokens: number;
  /** Inputs answered from the response cache. */
  readonly cachedInputs: number;
}

function pretokenized(ctx: ServingContext, ids: readonly number[]): Uint8Array {
  if (!ctx.admission?.pretokenized) throw new MpError('MP_INVALID_ARG', `model '${ctx.name}' does not take token arrays`);
  return ctx.admission.pretokenized(ids);
}

/** Throws unless `ctx` serves a text-embedding model; returns its config block. */
export function textConfigOf(ctx: ServingContext) {
  const text = ctx.config.text_embedding;
  if (!text) throw new MpError('MP_INVALID_ARG', `model '${ctx.name}' is not a text-embedding model (it has no text_embedding block)`);
  return text;
}

/**
 * Embeds texts (UTF-8 byte strings) or token arrays through the model's scheduler. Cached inputs are
 * answered from the version's response cache; the rest go in requests of at most max_batch_size texts,
 * submitted together so they batch with each other and with other traffic.
 */
export async function embedTexts(ctx: ServingContext, inputs: ReadonlyArray<Uint8Array | readonly number[]>, options: EmbedOptions = {}): Promise<EmbedResult> {
  const text = textConfigOf(ctx);
  if (inputs.length === 0) throw new MpError('MP_INVALID_ARG', 'input must not be empty');
  if (inputs.length > MAX_INPUTS_PER_REQUEST) throw new MpError('MP_INVALID_ARG', `input has ${inputs.length} items, at most ${MAX_INPUTS_PER_REQUEST} are allowed`);
  const full = ctx.config.outputs.find((o) => o.name === text.output_name)?.dims.at(-1) ?? 0;
  const dims = options.dimensions;
  if (dims !== undefined && dims !== full && !text.dimensions.includes(dims)) {
    throw new MpError('MP_INVALID_ARG', `dimensions: model '${ctx.name}' gives ${[full, ...text.dimensions].join(', ')}-dimensional vectors, not ${dims}`);
  }
  // Token arrays skip the tokenizer: the admission hands back a byte string that stands for them.
  const items = inputs.map((item) => (item instanceof Uint8Array ? item : pretokenized(ctx, item)));
  const cache = ctx.admission?.cache;
  const truncate = options.truncate ?? text.truncation === 'truncate';
  const keys = cache ? items.map((item) => EmbeddingCache.key(item, truncate)) : undefined;
  const fullVectors = new Array<Float32Array>(items.length);
  const tokenCounts = new Int32Array(items.length);
  const missing: number[] = [];
  items.forEach((_, i) => {
    const hit = keys ? cache!.get(keys[i]!) : undefined;
    if (!hit) return missing.push(i);
    fullVectors[i] = hit.vector;
    tokenCounts[i] = hit.tokens;
  });

  const chunk = Math.max(1, ctx.config.max_batch_size);
  const parts: Array<{ rows: number[]; done: Promise<TensorMap> }> = [];
  for (let start = 0; start < missing.length; start += chunk) {
    const rows = missing.slice(start, start + chunk);
    const data = rows.map((r) => items[r]!);
    const tensors: TensorMap = new Map([[text.input_name, { name: text.input_name, datatype: 'BYTES', shape: [rows.length], data }]]);
    parts.push({ rows, done: ctx.infer(tensors, { outputs: [text.output_name, text.token_count_name], truncate: options.truncate, signal: options.signal }) });
  }
  const settled = await Promise.allSettled(parts.map((p) => p.done));
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  settled.forEach((s, k) => {
    const out = (s as PromiseFulfilledResult<TensorMap>).value;
    const emb = out.get(text.output_name)!;
    const counts = out.get(text.token_count_name)!.data as Int32Array;
    const dim = emb.shape[1]!;
    const data = emb.data as Float32Array;
    parts[k]!.rows.forEach((row, r) => {
      // A cached vector gets its own buffer (the cache counts its bytes); an answer only reads views.
      fullVectors[row] = cache ? data.slice(r * dim, (r + 1) * dim) : data.subarray(r * dim, (r + 1) * dim);
      tokenCounts[row] = counts[r]!;
      cache?.set(keys![row]!, { vector: fullVectors[row], tokens: counts[r]! });
    });
  });

  const vectors = fullVectors.map((v) => {
    if (dims === undefined || dims === v.length) return v;
    const prefix = v.slice(0, dims);
    // A Matryoshka prefix of a unit vector is not a unit vector: normalise it again.
    if (text.normalize) normalizeRows(prefix, 1, dims);
    return prefix;
  });
  return { vectors, tokenCounts, promptTokens: tokenCounts.reduce((a, b) => a + b, 0), cachedInputs: items.length - missing.length };
}
