import { z } from 'zod';
import type { TextTokenizer } from './text-tokenizer.js';

/** A USE vocab.json: [piece, score] pairs. A few published scores are null; the reference tokenizer adds them as 0. */
export const UseVocabulary = z.array(z.tuple([z.string(), z.number().nullable().transform((s) => s ?? 0)])).min(7);

/** SentencePiece's word-boundary mark. */
const BOUNDARY = '\u2581';
/** Ids 0..5 are reserved (unknown, <s>, </s>, extra ids) and never matched against text. */
const RESERVED = 6;
const UNKNOWN_ID = 0;

interface TrieNode {
  readonly children: Map<string, TrieNode>;
  /** Vocabulary id ending here, or -1. */
  id: number;
  score: number;
}

const node = (): TrieNode => ({ children: new Map(), id: -1, score: 0 });

/**
 * Universal Sentence Encoder's tokenizer: SentencePiece unigram segmentation (Viterbi over piece
 * scores) of NFKC-normalised text with spaces turned into U+2581, as the USE-lite TF.js model was
 * published with. Characters outside the vocabulary become id 0, and runs of them a single 0.
 * Ties go to the later candidate (`>=`), as in the reference JavaScript tokenizer, so ids match it.
 */
export class UseTokenizer implements TextTokenizer {
  private readonly root = node();
  /** UTF-16 length of each piece: the reference walks back by it. */
  private readonly pieceLength: number[];

  readonly vocabSize: number;

  constructor(vocabulary: ReadonlyArray<readonly [string, number]>) {
    this.vocabSize = vocabulary.length;
    this.pieceLength = vocabulary.map(([piece]) => piece.length);
    for (let id = RESERVED; id < vocabulary.length; id++) {
      const [piece, score] = vocabulary[id]!;
      let n = this.root;
      for (const ch of piece) {
        let next = n.children.get(ch);
        if (!next) n.children.set(ch, (next = node()));
        n = next;
      }
      n.id = id;
      n.score = score;
    }
  }

  encode(text: string): number[] {
    const normalized = text.normalize('NFKC');
    if (normalized.length === 0) return [];
    const symbols = Array.from(BOUNDARY + normalized.replaceAll(' ', BOUNDARY));
    const n = symbols.length;
    // best[e]: the best score of a segmentation of symbols[0..e); 0 also means "not reached yet".
    const best = new Float64Array(n + 1);
    const bestId = new Int32Array(n + 1);
    // Candidates are visited by end position, then by start position ascending, as the reference lattice is.
    const byEnd: Array<Array<[start: number, id: number, score: number]>> = Array.from({ length: n + 1 }, () => []);
    for (let start = 0; start < n; start++) {
      let t: TrieNode | undefined = this.root.children.get(symbols[start]!);
      let matched = false;
      for (let end = start + 1; t && end <= n; end++) {
        if (t.id >= 0) {
          byEnd[end]!.push([start, t.id, t.score]);
          matched = true;
        }
        t = end < n ? t.children.get(symbols[end]!) : undefined;
      }
      if (!matched) byEnd[start + 1]!.push([start, UNKNOWN_ID, 0]);
    }
    for (let end = 1; end <= n; end++) {
      const candidates = byEnd[end]!.sort((a, b) => a[0] - b[0]);
      for (const [start, id, score] of candidates) {
        const total = score + best[start]!;
        if (best[end] === 0 || total >= best[end]!) {
          best[end] = total;
          bestId[end] = id;
        }
      }
    }
    const reversed: number[] = [];
    for (let at = n; at > 0; at -= this.pieceLength[bestId[at]!]!) reversed.push(bestId[at]!);
    const ids: number[] = [];
    for (let i = reversed.length - 1; i >= 0; i--) {
      const id = reversed[i]!;
      // Merge runs of unknown characters into one id 0 (the reference merges walking backwards).
      if (id === UNKNOWN_ID && i < reversed.length - 1 && reversed[i + 1] === UNKNOWN_ID) continue;
      ids.push(id);
    }
    return ids;
  }

  truncate(ids: readonly number[], maxTokens: number): number[] {
    return ids.slice(0, maxTokens);
  }
}
