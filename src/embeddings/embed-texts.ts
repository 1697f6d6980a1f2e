import { MpError } from '../errors.js';
import type { ServingContext } from '../lifecycle/serving-context.js';
import type { TensorMap } from '../tensor/tensor.js';
import { normalizeRows } from './pooling.js';

/** The most texts one embeddings request may carry (OpenAI's limit). */
export const MAX_INPUTS_PER_REQUEST = 2048;

export interface EmbedOptions {
  /** Cut texts longer than max_tokens (true), refuse them (false), or follow the model (undefined). */
  readonly truncate?: boolean | undefined;
  /** A shorter vector size the model allows (text_embedding.dimensions); undefined = full size. */
  readonly dimensions?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface EmbedResult {
  /** One vector per input, in input order. */
  readonly vectors: Float32Array[];
  /** Tokens per input after truncation. */
  readonly tokenCounts: Int32Array;
  readonly promptTokens: number;
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
 * Embeds texts (UTF-8 byte strings) through the model's scheduler, split into requests of at most
 * max_batch_size texts that are submitted together, so they batch with each other and with other traffic.
 */
export async function embedTexts(ctx: ServingContext, inputs: ReadonlyArray<Uint8Array | readonly number[]>, options: EmbedOptions = {}): Promise<EmbedResult> {
  const text = textConfigOf(ctx);
  // Token arrays skip the tokenizer: the admission hands back a byte string that stands for them.
  const texts = inputs.map((item) => (item instanceof Uint8Array ? item : pretokenized(ctx, item)));
  if (texts.length === 0) throw new MpError('MP_INVALID_ARG', 'input must not be empty');
  if (texts.length > MAX_INPUTS_PER_REQUEST) throw new MpError('MP_INVALID_ARG', `input has ${texts.length} items, at most ${MAX_INPUTS_PER_REQUEST} are allowed`);
  const full = ctx.config.outputs.find((o) => o.name === text.output_name)?.dims.at(-1) ?? 0;
  const dims = options.dimensions;
  if (dims !== undefined && dims !== full && !text.dimensions.includes(dims)) {
    const allowed = [full, ...text.dimensions].join(', ');
    throw new MpError('MP_INVALID_ARG', `dimensions: model '${ctx.name}' gives ${allowed}-dimensional vectors, not ${dims}`);
  }
  const chunk = Math.max(1, ctx.config.max_batch_size);
  const parts: Promise<TensorMap>[] = [];
  for (let start = 0; start < texts.length; start += chunk) {
    const items = texts.slice(start, start + chunk);
    const inputs: TensorMap = new Map([[text.input_name, { name: text.input_name, datatype: 'BYTES', shape: [items.length], data: items }]]);
    parts.push(ctx.infer(inputs, { outputs: [text.output_name, text.token_count_name], truncate: options.truncate, signal: options.signal }));
  }
  const settled = await Promise.allSettled(parts);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  const vectors: Float32Array[] = [];
  const tokenCounts = new Int32Array(texts.length);
  let k = 0;
  for (const s of settled) {
    const out = (s as PromiseFulfilledResult<TensorMap>).value;
    const emb = out.get(text.output_name)!;
    const counts = out.get(text.token_count_name)!.data as Int32Array;
    const dim = emb.shape[1]!;
    const data = emb.data as Float32Array;
    for (let r = 0; r < emb.shape[0]!; r++, k++) {
      const size = dims ?? dim;
      const v = data.slice(r * dim, r * dim + size);
      // A Matryoshka prefix of a unit vector is not a unit vector: normalise it again.
      if (size !== dim && text.normalize) normalizeRows(v, 1, size);
      vectors.push(v);
      tokenCounts[k] = counts[r]!;
    }
  }
  return { vectors, tokenCounts, promptTokens: tokenCounts.reduce((a, b) => a + b, 0) };
}
