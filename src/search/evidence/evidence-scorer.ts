import { z } from 'zod';
import { FEATURES } from './evidence-features.js';
// Imported (not read from disk) so that `tsc` copies it next to the compiled scorer.
import shippedWeights from './evidence-weights.json' with { type: 'json' };

/** A logistic regression over standardised features, trained by scripts/evidence/train.ts. */
export const ScorerSchema = z.strictObject({
  features: z.array(z.string()),
  mean: z.array(z.number()),
  std: z.array(z.number()),
  weights: z.array(z.number()),
  bias: z.number(),
  /** Sentences whose best evidence scores at least this are `supported` (calibrated on the dev set). */
  threshold: z.number().min(0).max(1),
  trainedOn: z.string(),
});
export type ScorerWeights = z.output<typeof ScorerSchema>;

export class EvidenceScorer {
  constructor(readonly weights: ScorerWeights) {
    if (weights.features.join(',') !== FEATURES.join(',')) {
      throw new Error(`evidence scorer: weights are for features [${weights.features.join(', ')}], code has [${FEATURES.join(', ')}]; retrain (npm run train:evidence)`);
    }
  }

  /** The probability that a unit with these features supports the sentence. */
  score(x: readonly number[]): number {
    const w = this.weights;
    let z = w.bias;
    for (let i = 0; i < x.length; i++) z += w.weights[i]! * ((x[i]! - w.mean[i]!) / w.std[i]!);
    return 1 / (1 + Math.exp(-z));
  }

  /** The scorer shipped with Modelplane (evidence-weights.json, written by `npm run train:evidence`). */
  static load(): EvidenceScorer {
    return new EvidenceScorer(ScorerSchema.parse(shippedWeights));
  }
}

/** Fits the logistic regression by full-batch gradient descent with L2, on standardised features. */
export function trainLogistic(xs: readonly number[][], ys: readonly number[], options: { l2?: number; epochs?: number; lr?: number; positiveWeight?: number } = {}): Omit<ScorerWeights, 'threshold' | 'trainedOn'> {
  const d = FEATURES.length;
  const n = xs.length;
  const mean = new Array<number>(d).fill(0);
  const std = new Array<number>(d).fill(0);
  for (const x of xs) x.forEach((v, i) => (mean[i]! += v / n));
  for (const x of xs) x.forEach((v, i) => (std[i]! += (v - mean[i]!) ** 2 / n));
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
      const p = 1 / (1 + Math.exp(-s));
      const weight = ys[k] === 1 ? pw : 1;
      const err = (p - ys[k]!) * weight;
      for (let i = 0; i < d; i++) g[i]! += err * z[i]!;
      gb += err;
    }
    for (let i = 0; i < d; i++) w[i]! -= lr * (g[i]! / wsum + l2 * w[i]!);
    b -= lr * (gb / wsum);
  }
  return { features: [...FEATURES], mean, std, weights: w, bias: b };
}
