/** One ranked list to fuse: labels best first, and the weight of this list. */
export interface RankedList {
  readonly labels: readonly number[];
  readonly weight: number;
}

/**
 * Weighted reciprocal rank fusion (Cormack et al., 2009): score(d) = Σ_lists weight / (k + rank(d)),
 * rank 1-based. Scale-free, so BM25 scores and cosine similarities need no calibration against each other.
 * Returns labels with fused scores, best first; ties keep the order of first appearance.
 */
export function reciprocalRankFusion(lists: readonly RankedList[], k: number): { label: number; score: number }[] {
  const scores = new Map<number, number>();
  for (const list of lists) {
    if (list.weight === 0) continue;
    list.labels.forEach((label, i) => {
      scores.set(label, (scores.get(label) ?? 0) + list.weight / (k + i + 1));
    });
  }
  return [...scores].map(([label, score]) => ({ label, score })).sort((a, b) => b.score - a.score);
}
