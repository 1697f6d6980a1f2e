/** Text to token ids, as a text-embedding model's encoder expects them. */
export interface TextTokenizer {
  /** Ids are 0..vocabSize-1. */
  readonly vocabSize: number;
  /** The ids of one text, special tokens included. */
  encode(text: string): number[];
  /** Shortens ids to `maxTokens`, keeping what the encoder needs at the end (e.g. [SEP]). */
  truncate(ids: readonly number[], maxTokens: number): number[];
}
