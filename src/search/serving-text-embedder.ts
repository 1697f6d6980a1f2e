import type { ModelManager } from '../lifecycle/model-manager.js';
import type { ServingContext } from '../lifecycle/serving-context.js';
import { planBatches } from './embed-batches.js';
import type { TextEmbedder } from './text-embedder.js';

const utf8 = new TextEncoder();

/**
 * A served text-embedding model (a config with `text_embedding`) as search's TextEmbedder: texts go
 * through the model's own scheduler, so collection upserts and evidence linking batch with online
 * `/v1/embeddings` traffic. Long texts are truncated to the model's max_tokens (a document is
 * indexed by its opening, not refused).
 */
export class ServingTextEmbedder implements TextEmbedder {
  constructor(
    readonly model: string,
    readonly dimension: number,
    private readonly context: () => ServingContext,
  ) {}

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    const ctx = this.context();
    const te = ctx.config.text_embedding!;
    const perRequest = Math.max(1, ctx.config.max_batch_size);
    // Requests of texts of similar length, shortest first: the encoder pads a batch to its longest text
    // (embed-batches.ts), and the scheduler joins requests in the order they arrive. The token budget is
    // the scheduler's (max_batch_tokens), so requests are cut by count alone.
    const requests = planBatches(texts.map((t) => t.length), Number.POSITIVE_INFINITY, perRequest);
    const out = new Array<Float32Array>(texts.length);
    await Promise.all(requests.map(async (indices) => {
      const input = { name: te.input_name, datatype: 'BYTES' as const, shape: [indices.length], data: indices.map((i) => utf8.encode(texts[i]!)) };
      const outputs = await ctx.infer(new Map([[te.input_name, input]]), { outputs: [te.output_name], truncate: true });
      const vectors = outputs.get(te.output_name)!;
      const d = vectors.shape[1]!;
      const data = vectors.data as Float32Array;
      indices.forEach((i, j) => (out[i] = data.slice(j * d, (j + 1) * d)));
    }));
    return out;
  }
}

/** One embedder per READY served model that embeds text, named after the model. */
export function servedTextEmbedders(manager: ModelManager): TextEmbedder[] {
  const out: TextEmbedder[] = [];
  for (const ctx of manager.readyContexts()) {
    const te = ctx.config.text_embedding;
    if (!te) continue;
    const dimension = ctx.config.outputs.find((o) => o.name === te.output_name)?.dims.at(-1);
    if (dimension === undefined || dimension <= 0) continue;
    out.push(new ServingTextEmbedder(ctx.name, dimension, () => manager.resolve(ctx.name)));
  }
  return out;
}
