import { readFileSync } from 'node:fs';

export interface RecognizedText {
  readonly text: string;
  /** Mean probability of the characters kept. */
  readonly confidence: number;
}

/**
 * Greedy CTC decoding for PP-OCR recognition output [T, C]: best class per step, repeats collapsed,
 * blanks (class 0) dropped. Class i (1..C-2) is line i of the dictionary; the last class is a space.
 */
export class CtcDecoder {
  private readonly charset: readonly string[];

  constructor(dictionary: readonly string[]) {
    this.charset = ['', ...dictionary, ' '];
  }

  static fromFile(path: string): CtcDecoder {
    const lines = readFileSync(path, 'utf8').split(/\r?\n/);
    if (lines[lines.length - 1] === '') lines.pop();
    return new CtcDecoder(lines);
  }

  get classes(): number {
    return this.charset.length;
  }

  /** Decodes `steps` rows of `classes` probabilities starting at `offset`. */
  decode(probs: Float32Array, steps: number, offset = 0): RecognizedText {
    const classes = this.charset.length;
    let text = '';
    let sum = 0;
    let kept = 0;
    let previous = -1;
    for (let t = 0; t < steps; t++) {
      const base = offset + t * classes;
      let best = 0;
      let bestP = probs[base]!;
      for (let c = 1; c < classes; c++) {
        const p = probs[base + c]!;
        if (p > bestP) {
          bestP = p;
          best = c;
        }
      }
      if (best !== 0 && best !== previous) {
        text += this.charset[best]!;
        sum += bestP;
        kept++;
      }
      previous = best;
    }
    return { text, confidence: kept === 0 ? 0 : sum / kept };
  }
}
