import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MpError } from '../errors.js';
import type { TextEmbeddingConfig } from '../config/text-embedding-config.js';
import type { Tensor } from '../tensor/tensor.js';
import { HfTokenizer } from './hf-tokenizer.js';
import type { TextTokenizer } from './text-tokenizer.js';
import { EmbeddingCache } from './embedding-cache.js';
import { UseTokenizer, UseVocabulary } from './use-tokenizer.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Counters of the padded encoder's work: how many token positions ran and how many were padding. */
export class PaddingStats {
  computedTokens = 0;
  paddingTokens = 0;
}

/**
 * The text side of one text-embedding model version, shared by its instances: the tokenizer, the
 * truncation policy, and the ids of texts already tokenized at admission (keyed by the request's
 * own byte strings, so an instance reuses them instead of tokenizing twice).
 */
export class TextEmbedder {
  private readonly tokenized = new WeakMap<Uint8Array, number[]>();
  /** Byte strings standing for token arrays a client sent (OpenAI's `input` as ids). */
  private readonly given = new WeakMap<Uint8Array, number[]>();
  readonly padding = new PaddingStats();
  /** Answers per text, when the config enables response_cache. */
  readonly cache: EmbeddingCache | undefined;

  /** `where` names the model in request errors, e.g. "model 'minilm'". */
  constructor(readonly config: TextEmbeddingConfig, readonly tokenizer: TextTokenizer, private readonly where: string) {
    this.cache = config.response_cache.enable ? new EmbeddingCache(config.response_cache.max_bytes) : undefined;
  }

  /** Reads the tokenizer files named by the config from the version directory. */
  static async load(config: TextEmbeddingConfig, versionDir: string, where: string, label: string): Promise<TextEmbedder> {
    const t = config.tokenizer;
    const readJson = async (file: string): Promise<unknown> => {
      try {
        return JSON.parse(await readFile(join(versionDir, file), 'utf8'));
      } catch (err) {
        throw new MpError('MP_CONFIG_INVALID', `${where}: text_embedding.tokenizer: cannot read ${join(versionDir, file)}: ${(err as Error).message}`);
      }
    };
    if (t.type === 'use-sentencepiece') {
      const vocab = UseVocabulary.safeParse(await readJson(t.vocab));
      if (!vocab.success) throw new MpError('MP_CONFIG_INVALID', `${where}: text_embedding.tokenizer.vocab: ${t.vocab} is not a list of [piece, score]`);
      return new TextEmbedder(config, new UseTokenizer(vocab.data), label);
    }
    const json = await readJson(t.file);
    if (typeof json !== 'object' || json === null || !('model' in json)) {
      throw new MpError('MP_CONFIG_INVALID', `${where}: text_embedding.tokenizer.file: ${t.file} is not a tokenizer.json (no 'model')`);
    }
    const extra = t.config_file ? await readJson(t.config_file) : {};
    try {
      return new TextEmbedder(config, new HfTokenizer(json, extra as object, t.add_special_tokens), label);
    } catch (err) {
      throw new MpError('MP_CONFIG_INVALID', `${where}: text_embedding.tokenizer: ${(err as Error).message}`);
    }
  }

  /**
   * Request-time check of the texts (before queueing): valid UTF-8, not empty, and within max_tokens
   * unless truncating. Returns the request's token count after truncation (its cost in a batch budget).
   */
  admit(texts: Tensor, truncate: boolean | undefined): number {
    const cut = truncate ?? this.config.truncation === 'truncate';
    const items = texts.data as Uint8Array[];
    let total = 0;
    for (let i = 0; i < items.length; i++) {
      const ids = this.given.get(items[i]!) ?? this.tokenize(items[i]!, i);
      if (ids.length > this.config.max_tokens && !cut) {
        throw new MpError('MP_INVALID_ARG', `${this.where}: text ${i} has ${ids.length} tokens, more than max_tokens ${this.config.max_tokens} (truncation is off)`);
      }
      const kept = ids.length > this.config.max_tokens ? this.tokenizer.truncate(ids, this.config.max_tokens) : ids;
      this.tokenized.set(items[i]!, kept);
      total += kept.length;
    }
    return total;
  }

  private tokenize(item: Uint8Array, i: number): number[] {
    let text: string;
    try {
      text = strictUtf8.decode(item);
    } catch {
      throw new MpError('MP_INVALID_ARG', `${this.where}: text ${i} is not valid UTF-8`);
    }
    if (text.length === 0) throw new MpError('MP_INVALID_ARG', `${this.where}: text ${i} is empty`);
    return this.tokenizer.encode(text);
  }

  /**
   * A byte string standing for a client's token ids (little-endian int32 after a 0xFF marker byte,
   * which UTF-8 text never contains, so it cannot collide with a text); admission uses the ids as given.
   */
  pretokenized(ids: readonly number[]): Uint8Array {
    if (ids.length === 0) throw new MpError('MP_INVALID_ARG', `${this.where}: a token array is empty`);
    const size = this.tokenizer.vocabSize;
    const bytes = new Uint8Array(1 + 4 * ids.length);
    const view = new DataView(bytes.buffer);
    bytes[0] = 0xff;
    ids.forEach((id, k) => {
      if (!Number.isInteger(id) || id < 0 || id >= size) throw new MpError('MP_INVALID_ARG', `${this.where}: token id ${id} is outside the vocabulary (0..${size - 1})`);
      view.setInt32(1 + 4 * k, id, true);
    });
    this.given.set(bytes, [...ids]);
    return bytes;
  }

  /** The (truncated) ids of one text: from admission when it ran, else tokenized now. */
  idsOf(item: Uint8Array): number[] {
    const known = this.tokenized.get(item) ?? this.given.get(item);
    if (known) return known.length > this.config.max_tokens ? this.tokenizer.truncate(known, this.config.max_tokens) : known;
    const ids = this.tokenizer.encode(new TextDecoder().decode(item));
    return ids.length > this.config.max_tokens ? this.tokenizer.truncate(ids, this.config.max_tokens) : ids;
  }
}
