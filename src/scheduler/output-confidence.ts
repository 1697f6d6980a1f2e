import { fromHalfBits } from '../tensor/fp16.js';
import type { Tensor, TensorMap } from '../tensor/tensor.js';
import { CONFIDENCE_BUCKETS, FixedHistogram } from './histogram.js';

/** How an output holds class scores along its last dimension. */
export type ScoreKind = 'probabilities' | 'logits';

export interface ScoredOutput {
  readonly name: string;
  readonly kind: ScoreKind;
}

/**
 * Records the top-1 score of every row of the outputs a model's config marks as class scores
 * (logits go through a softmax first), once per executed batch: the base for confidence drift
 * and cascade thresholds. Rows are every position but the last (class) dimension.
 */
export class OutputConfidence {
  readonly histograms: ReadonlyMap<string, FixedHistogram>;

  constructor(readonly outputs: readonly ScoredOutput[]) {
    this.histograms = new Map(outputs.map((o) => [o.name, new FixedHistogram(CONFIDENCE_BUCKETS)]));
  }

  observe(outputs: TensorMap): void {
    for (const o of this.outputs) {
      const t = outputs.get(o.name);
      if (t) observeTopScores(t, o.kind, this.histograms.get(o.name)!);
    }
  }
}

function observeTopScores(t: Tensor, kind: ScoreKind, histogram: FixedHistogram): void {
  const classes = t.shape[t.shape.length - 1] ?? 0;
  if (classes <= 0) return;
  const read = reader(t);
  if (!read) return;
  const rows = Math.floor(read.length / classes);
  for (let row = 0; row < rows; row++) {
    const base = row * classes;
    let max = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < classes; k++) {
      const v = read.at(base + k);
      if (v > max) max = v;
    }
    if (Number.isNaN(max)) continue;
    if (kind === 'probabilities') {
      histogram.observe(max);
      continue;
    }
    // softmax top-1 = 1 / sum(exp(x_k - max)), stable for any logit range.
    let sum = 0;
    for (let k = 0; k < classes; k++) sum += Math.exp(read.at(base + k) - max);
    histogram.observe(1 / sum);
  }
}

function reader(t: Tensor): { length: number; at(i: number): number } | undefined {
  const d = t.data;
  if (t.datatype === 'FP32' || t.datatype === 'FP64') {
    const a = d as Float32Array | Float64Array;
    return { length: a.length, at: (i) => a[i]! };
  }
  if (t.datatype === 'FP16') {
    const a = d as Uint16Array;
    return { length: a.length, at: (i) => fromHalfBits(a[i]!) };
  }
  return undefined;
}
