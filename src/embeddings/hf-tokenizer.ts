import { Tokenizer } from '@huggingface/tokenizers';
import type { TextTokenizer } from './text-tokenizer.js';

/**
 * A Hugging Face `tokenizer.json` (WordPiece, BPE, Unigram with their normalisers, pre-tokenisers and
 * post-processors) through `@huggingface/tokenizers`, a pure-JS port of the Rust crate.
 */
export class HfTokenizer implements TextTokenizer {
  private readonly tokenizer: Tokenizer;
  /** Special ids the post-processor appends at the end (e.g. [SEP], </s>), kept on truncation. */
  private readonly trailing: number;
  readonly vocabSize: number;

  constructor(tokenizerJson: object, tokenizerConfig: object, private readonly addSpecialTokens: boolean) {
    this.tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
    this.vocabSize = Math.max(...this.tokenizer.get_vocab(true).values()) + 1;
    const probe = this.tokenizer.encode('a', { add_special_tokens: false }).ids;
    const withSpecial = this.tokenizer.encode('a', { add_special_tokens: addSpecialTokens }).ids;
    // The appended suffix is what follows the plain ids in the special-token encoding of the probe.
    const at = indexOfRun(withSpecial, probe);
    this.trailing = at < 0 ? 0 : withSpecial.length - at - probe.length;
  }

  encode(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: this.addSpecialTokens }).ids;
  }

  truncate(ids: readonly number[], maxTokens: number): number[] {
    if (ids.length <= maxTokens) return [...ids];
    const keepEnd = Math.min(this.trailing, maxTokens);
    return [...ids.slice(0, maxTokens - keepEnd), ...ids.slice(ids.length - keepEnd)];
  }
}

function indexOfRun(haystack: readonly number[], needle: readonly number[]): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
