import { z } from 'zod';
import { FEATURES } from './evidence-features.js';
// Imported (not read from disk) so that `tsc` copies it next to the compiled scorer.
import shippedWeights from './evidence-weights.json' with { type: 'json' };

const LogisticSchema = z.strictObject({
  features: z.array(z.string()),
  mean: z.array(z.number()),
  std: z.array(z.number()),
  weights: z.array(z.number()),
  bias: z.number(),
});
export type LogisticWeights = z.output<typeof LogisticSchema>;

/**
 * Two logistic regressions trained by scripts/evidence/train.ts:
 * - `pair` ranks the candidates of a sentence (does this unit support this sentence?);
 * - `sentence` decides support from the best candidate's features and its pair score (is the sentence supported
 *   at all?): trained on sentences, so a changed number or a flipped negation in an otherwise close match counts
 *   as much as it should.
 */
export const ScorerSchema = z.strictObject({
  pair: LogisticSchema,
  sentence: LogisticSchema,
  /** Sentences scoring at least this are `supported` (calibrated on the dev set). */
  threshold: z.number().min(0).max(1),
  trainedOn: z.string(),
});
export type ScorerWeights = z.output<typeof ScorerSchema>;

/** Features of the sentence-level model: the best candidate's pair score and the facts that can sink it. */
export const SENTENCE_FEATURES = ['pairScore', 'secondPairScore', 'cos', 'lex', 'numMiss', 'numAnyMiss', 'numMissSource', 'negMismatch', 'speakerMismatch', 'question', 'novel', 'coverTop3'] as const;

const col = (name: (typeof FEATURES)[number]): number => FEATURES.indexOf(name);

/** The sentence-level feature vector from the pair features of the best candidate and the two best pair scores. */
export function sentenceFeatures(best: readonly number[], pairScore: number, secondPairScore: number): number[] {
  return [
    pairScore, secondPairScore, best[col('cos')]!, best[col('lex')]!, best[col('numMiss')]!, best[col('numAnyMiss')]!,
    best[col('numMissSource')]!, best[col('negMismatch')]!, best[col('speakerMismatch')]!, best[col('question')]!, best[col('novel')]!, best[col('coverTop3')]!,
  ];
}

export function logistic(w: LogisticWeights, x: readonly number[]): number {
  let z = w.bias;
  for (let i = 0; i < x.length; i++) z += w.weights[i]! * ((x[i]! - w.mean[i]!) / w.std[i]!);
  return 1 / (1 + Math.exp(-z));
}

export class EvidenceScorer {
  constructor(readonly weights: ScorerWeights) {
    const check = (what: string, have: readonly string[], want: readonly string[]): void => {
      if (have.join(',') !== want.join(',')) throw new Error(`evidence scorer: ${what} weights are for [${have.join(', ')}], code has [${want.join(', ')}]; retrain (npm run train:evidence)`);
    };
    check('pair', weights.pair.features, FEATURES);
    check('sentence', weights.sentence.features, SENTENCE_FEATURES);
  }

  /** The probability that a unit with these pair features supports the sentence (ranks evidence). */
  pair(x: readonly number[]): number {
    return logistic(this.weights.pair, x);
  }

  /** The support score of a sentence whose candidates scored `pairScores` (best first) with the best one's features `best`. */
  sentence(best: readonly number[] | undefined, pairScores: readonly number[]): number {
    if (!best) return 0;
    return logistic(this.weights.sentence, sentenceFeatures(best, pairScores[0] ?? 0, pairScores[1] ?? 0));
  }

  /** The scorer shipped with Modelplane (evidence-weights.json, written by `npm run train:evidence`). */
  static load(): EvidenceScorer {
    return new EvidenceScorer(ScorerSchema.parse(shippedWeights));
  }
}

/** Fits a logistic regression by full-batch gradient descent with L2, on standardised features. */
export function trainLogistic(names: readonly string[], xs: readonly number[][], ys: readonly number[], options: { l2?: number; epochs?: number; lr?: number; positiveWeight?: number } = {}): LogisticWeights {
  const d = names.length;
  const n = xs.length;
  const mean = new Array<number>(d).fill(0);
  const std = new Array<number>(d).fill(0);
  for (const x of xs) for (let i = 0; i < d; i++) mean[i] = mean[i]! + x[i]! / n;
  for (const x of xs) for (let i = 0; i < d; i++) std[i] = std[i]! + (x[i]! - mean[i]!) ** 2 / n;
  for (let i = 0; i < d; i++) std[i] = Math.sqrt(std[i]!) || 1;
  const zs = xs.map((x) => x.map((v, i) => (v - mean[i]!) / std[i]!));
  const w = new Array<number>(d).fill(0);
  let b = 0;
  const l2 = options.l2 ?? 0.01;
  const lr = options.lr ?? 0.5;
  const pw = options.positiveWeight ?? 1;
  let wsum = 0;
  for (const y of ys) wsum += y === 1 ? pw : 1;
  for (let epoch = 0; epoch < (options.epochs ?? 800); epoch++) {
    const g = new Array<number>(d).fill(0);
    let gb = 0;
    for (let k = 0; k < n; k++) {
      const z = zs[k]!;
      let s = b;
      for (let i = 0; i < d; i++) s += w[i]! * z[i]!;
      const err = (1 / (1 + Math.exp(-s)) - ys[k]!) * (ys[k] === 1 ? pw : 1);
      for (let i = 0; i < d; i++) g[i] = g[i]! + err * z[i]!;
      gb += err;
    }
    for (let i = 0; i < d; i++) w[i] = w[i]! - lr * (g[i]! / wsum + l2 * w[i]!);
    b -= lr * (gb / wsum);
  }
  return { features: [...names], mean, std, weights: w, bias: b };
}
