/**
 * Learns how long a batch takes by its size, for admission, expiry and Retry-After. A batch of 64
 * can take ten times one of 4; a single average over mixed sizes swings with the mix and, made
 * pessimistic enough to be safe, refuses too much. So times are smoothed per size class (powers of
 * two), each with its mean deviation, as TCP smooths round trips.
 *
 * A batch is assumed to cost at most its rows times the per-row time of a smaller batch (that is what
 * batching is for), so a class's figure is capped by every smaller class measured since it was, scaled
 * by rows. Without the cap a stale figure traps the scheduler: one slow batch of 64 (cold caches, a busy
 * machine) made admission refuse whatever would join a batch that large, only batches of 32 ran from
 * then on, and the 64 class was never measured again (at concurrency 64 with a 250 ms queue timeout:
 * 87% refused while answers took 100 ms). A class with nothing measured at or below it takes the
 * nearest larger one as it is.
 */
const CLASSES = 16;

export class BatchTimer {
  /**
   * @param scaledByRows whether a batch costs at most its rows times a smaller batch's per-row time
   *   (the cap above). False for a time that does not grow with rows, such as answering a batch,
   *   which one small batch's near-zero figure would otherwise cap for every size.
   */
  constructor(private readonly scaledByRows = true) {}

  private readonly meanUs = new Float64Array(CLASSES);
  private readonly deviationUs = new Float64Array(CLASSES);
  private readonly samples = new Uint32Array(CLASSES);
  /** Mean rows of the batches measured in each class, for scaling by rows. */
  private readonly meanRows = new Float64Array(CLASSES);
  /** When each class was last measured, counted in batches. */
  private readonly lastBatch = new Float64Array(CLASSES);
  private batches = 0;

  /** True once any batch has been timed. */
  get known(): boolean {
    return this.batches > 0;
  }

  record(rows: number, us: number): void {
    const c = sizeClass(rows);
    if (this.samples[c] === 0) {
      this.meanUs[c] = us;
      this.deviationUs[c] = us / 4;
      this.meanRows[c] = rows;
    } else {
      this.deviationUs[c] = 0.75 * this.deviationUs[c]! + 0.25 * Math.abs(us - this.meanUs[c]!);
      this.meanUs[c] = 0.875 * this.meanUs[c]! + 0.125 * us;
      this.meanRows[c] = 0.875 * this.meanRows[c]! + 0.125 * rows;
    }
    this.samples[c]!++;
    this.lastBatch[c] = ++this.batches;
  }

  /** Expected time of a batch of `rows` (0 before any batch has run). */
  expectedUs(rows: number): number {
    return this.estimate(rows, 0);
  }

  /** A pessimistic time for a batch of `rows`: mean plus twice the mean deviation. */
  budgetUs(rows: number): number {
    return this.estimate(rows, 2);
  }

  private estimate(rows: number, deviations: number): number {
    if (this.batches === 0) return 0;
    const c = sizeClass(rows);
    const timeOf = (n: number) => this.meanUs[n]! + deviations * this.deviationUs[n]!;
    let best = this.samples[c]! > 0 ? timeOf(c) : Number.POSITIVE_INFINITY;
    if (!this.scaledByRows) {
      if (best !== Number.POSITIVE_INFINITY) return best;
      for (let d = 1; d < CLASSES; d++) {
        if (c + d < CLASSES && this.samples[c + d]! > 0) return timeOf(c + d);
        if (c - d >= 0 && this.samples[c - d]! > 0) return timeOf(c - d);
      }
      return 0;
    }
    for (let n = 0; n < c; n++) {
      if (this.samples[n]! > 0 && this.lastBatch[n]! > this.lastBatch[c]!) best = Math.min(best, timeOf(n) * (Math.max(1, rows) / Math.max(1, this.meanRows[n]!)));
    }
    if (best !== Number.POSITIVE_INFINITY) return best;
    for (let n = c + 1; n < CLASSES; n++) if (this.samples[n]! > 0) return timeOf(n);
    return 0;
  }
}

/** 1 → 0, 2 → 1, 3-4 → 2, 5-8 → 3, ... */
function sizeClass(rows: number): number {
  return Math.min(CLASSES - 1, Math.ceil(Math.log2(Math.max(1, rows))));
}
