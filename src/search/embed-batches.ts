/**
 * How a burst of texts is cut into model calls.
 *
 * USE-lite pads every text of a call to the longest one (its attention and 1×1 convolutions run over
 * batch × longest tokens), so a call that mixes a 3-word turn with a 45-word one pays for 45 words
 * twice. Sorting by length first and bounding each call by its padded size (count × longest) makes
 * padding waste small and keeps the activations cache-sized. Measured on a 5,000-word transcript's 350
 * chunks, one thread: arrival order at 32 per call 3.8–4.5 s, sorted 2.3–2.6 s (docs/benchmarks-search.md).
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
