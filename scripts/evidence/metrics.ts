import type { SentenceRows } from './dev-set.js';

export interface Metrics {
  readonly successAt1: number;
  readonly successAt3: number;
  readonly mrr: number;
  readonly auroc: number;
  readonly supported: number;
  readonly unsupported: number;
}

export interface SentenceScore {
  readonly s: number;
  readonly supported: boolean;
  readonly kind: string;
}

/** Scores of a sentence's candidates, and the sentence's support score from its candidates sorted best first. */
export interface Scoring {
  pair(x: number[]): number;
  sentence(sorted: readonly { x: number[]; p: number }[]): number;
}

/** Ranks each sentence's candidates by the pair score (deduplicated by segment set), scores the ranking and the detection. */
export function evaluate(sentences: readonly SentenceRows[], scoring: Scoring): Metrics & { sentenceScores: SentenceScore[] } {
  let s1 = 0;
  let s3 = 0;
  let mrr = 0;
  let n = 0;
  const sentenceScores: SentenceScore[] = [];
  for (const s of sentences) {
    const scored = s.rows.map((r) => ({ ...r, p: scoring.pair(r.x) })).sort((a, b) => b.p - a.p);
    sentenceScores.push({ s: scoring.sentence(scored), supported: s.sentence.gold !== null, kind: s.sentence.kind });
    if (s.sentence.gold === null) continue;
    n++;
    const seen = new Set<string>();
    let rank = 0;
    for (const r of scored) {
      const key = r.segmentIds.join(',');
      if (seen.has(key)) continue;
      seen.add(key);
      rank++;
      if (r.gold) {
        if (rank === 1) s1++;
        if (rank <= 3) s3++;
        mrr += 1 / rank;
        break;
      }
    }
  }
  const pos = sentenceScores.filter((x) => x.supported).map((x) => x.s);
  const neg = sentenceScores.filter((x) => !x.supported).map((x) => x.s);
  return { successAt1: s1 / n, successAt3: s3 / n, mrr: mrr / n, auroc: auroc(pos, neg), supported: pos.length, unsupported: neg.length, sentenceScores };
}

/** A scoring that ranks by one function and takes the best candidate's value as the sentence score. */
export function byPair(pair: (x: number[]) => number): Scoring {
  return { pair, sentence: (sorted) => sorted[0]?.p ?? 0 };
}

/** Probability that a random supported sentence outscores a random unsupported one (ties count half). */
export function auroc(pos: readonly number[], neg: readonly number[]): number {
  let wins = 0;
  for (const p of pos) for (const q of neg) wins += p > q ? 1 : p === q ? 0.5 : 0;
  return pos.length * neg.length > 0 ? wins / (pos.length * neg.length) : NaN;
}

/** The threshold with the best balanced accuracy between supported and unsupported sentences. */
export function calibrateThreshold(scores: readonly SentenceScore[]): number {
  const values = [...new Set(scores.map((x) => x.s))].sort((a, b) => a - b);
  let best = 0.5;
  let bestAcc = -1;
  const pos = scores.filter((x) => x.supported).length;
  const neg = scores.length - pos;
  for (let i = 0; i < values.length; i++) {
    const t = i === 0 ? values[0]! : (values[i - 1]! + values[i]!) / 2;
    const tp = scores.filter((x) => x.supported && x.s >= t).length;
    const tn = scores.filter((x) => !x.supported && x.s < t).length;
    const acc = (tp / pos + tn / neg) / 2;
    if (acc > bestAcc) {
      bestAcc = acc;
      best = t;
    }
  }
  return best;
}
