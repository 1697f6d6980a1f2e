import { z } from 'zod';

const FileName = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'must be a file name inside the version directory').refine((s) => s !== '..' && s !== '.', 'must be a file name');

/**
 * Text in, vectors out: how a text-embedding model turns text into the encoder's inputs and its
 * outputs into one vector per text. The served model then has one BYTES input (the texts) and two
 * outputs (the vectors and each text's token count), whatever the encoder's own tensors are.
 */
export const TextEmbeddingSchema = z.strictObject({
  tokenizer: z.discriminatedUnion('type', [
    /** Universal Sentence Encoder's SentencePiece vocabulary: a JSON list of [piece, score]. */
    z.strictObject({ type: z.literal('use-sentencepiece'), vocab: FileName.default('vocab.json') }),
    /** A Hugging Face `tokenizer.json` (WordPiece, BPE, Unigram), with its optional `tokenizer_config.json`. */
    z.strictObject({
      type: z.literal('huggingface'),
      file: FileName.default('tokenizer.json'),
      config_file: FileName.optional(),
      add_special_tokens: z.boolean().default(true),
    }),
  ]),
  /**
   * How token ids reach the encoder. `sparse`: one `indices` [n,2] and one `values` [n] tensor (USE).
   * `padded`: `input_ids` and `attention_mask` [batch, length], plus `token_type_ids` when the model has it.
   */
  encoder_inputs: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('sparse'), indices: z.string().default('indices'), values: z.string().default('values') }),
    z.strictObject({
      kind: z.literal('padded'),
      input_ids: z.string().default('input_ids'),
      attention_mask: z.string().default('attention_mask'),
      token_type_ids: z.string().optional(),
      /** The id written into padded positions (masked out anyway). */
      pad_id: z.int().nonnegative().default(0),
      /** Integer type of the encoder's id tensors. */
      datatype: z.enum(['INT32', 'INT64']).default('INT64'),
    }),
  ]),
  /** The encoder output to read; the first one when omitted. */
  encoder_output: z.string().optional(),
  /** `none`: the encoder already gives one vector per text; `mean`/`cls`: pool [batch, length, dim] token states. */
  pooling: z.enum(['none', 'mean', 'cls']).default('none'),
  /** L2-normalise each vector (cosine similarity becomes a dot product). */
  normalize: z.boolean().default(true),
  /** The longest input in tokens (special tokens included); longer ones follow the truncation policy. */
  max_tokens: z.int().positive().max(65536).default(512),
  /** What happens to a longer input unless the request says otherwise: refused (400) or cut to max_tokens. */
  truncation: z.enum(['error', 'truncate']).default('error'),
  /**
   * Shorter vectors a client may ask for (OpenAI's `dimensions`): only for encoders trained for it
   * (Matryoshka); the prefix is re-normalised. Empty = only the full size.
   */
  dimensions: z.array(z.int().positive()).default([]),
  /**
   * Cache of answers per text for the embeddings APIs (/v1/embeddings, /embed), keyed by the exact
   * input bytes and the truncation in force, bounded in bytes (LRU); dropped when the version unloads.
   */
  response_cache: z
    .strictObject({ enable: z.boolean().default(false), max_bytes: z.int().positive().default(64 * 1024 * 1024) })
    .default({ enable: false, max_bytes: 64 * 1024 * 1024 }),
  /** Names of the served tensors. */
  input_name: z.string().min(1).default('text'),
  output_name: z.string().min(1).default('embedding'),
  token_count_name: z.string().min(1).default('token_count'),
});
export type TextEmbeddingConfig = z.infer<typeof TextEmbeddingSchema>;

/** TF.js options: which loader reads `model.json` (`auto` reads its `format` field). */
export const TfjsOptionsSchema = z.strictObject({
  model_type: z.enum(['auto', 'graph', 'layers']).default('auto'),
});
