/**
 * How a burst of texts is cut into model calls.
 *
 * USE-lite's attention runs over batch × longest tokens of a call (its per-token steps run on the real
 * tokens only, see use-lite-graph.ts), so a call that mixes a 3-word turn with a 45-word one pays for the
 * padding there. Sorting by length first and bounding each call by its padded size (count × longest) keeps
 * that waste small, keeps the activations cache-sized, and gives each worker thread many calls to take
 * turns on. On onnxruntime, a 5,000-word transcript's 370 texts (docs/benchmarks-search.md): one thread
 * spends ~0.39 s of CPU at 512 characters per call, ~0.36 s at 1,024, ~0.34 s at 2,048–4,096 (per-call
 * overhead); on 2 threads 1,024 and 2,048 take the same wall time and 4,096 is slower (9 calls balance
 * badly over 2 threads).
 */

/** Default padded size of one call, in characters (count × longest text); ~4.5 characters per USE token. */
export const DEFAULT_BATCH_CHARS = 2048;
/** Never more texts than this in one call, however short they are. */
export const DEFAULT_MAX_BATCH = 64;

/**
 * Indices of `lengths` grouped into calls: shortest texts first, each call holding consecutive texts
 * (in that order) while count × longest ≤ `budget` and count ≤ `maxBatch`. A text longer than the
 * budget goes alone. Every index appears exactly once; ties keep arrival order.
 */
export function planBatches(lengths: readonly number[], budget = DEFAULT_BATCH_CHARS, maxBatch = DEFAULT_MAX_BATCH): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const batches: number[][] = [];
  let cur: number[] = [];
  for (const i of order) {
    // Sorted ascending, so the text being added is the longest of the call so far.
    const padded = Math.max(1, lengths[i]!) * (cur.length + 1);
    if (cur.length > 0 && (padded > budget || cur.length >= maxBatch)) {
      batches.push(cur);
      cur = [];
    }
    cur.push(i);
  }
  if (cur.length > 0) batches.push(cur);
  return batches;
}
