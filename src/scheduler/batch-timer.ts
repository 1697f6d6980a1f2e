/**
 * Learns how long a batch takes by its size, for admission, expiry and Retry-After. A batch of 64
 * can take ten times one of 4; a single average over mixed sizes swings with the mix and, made
 * pessimistic enough to be safe, refuses too much. So times are smoothed per size class (powers of
 * two), each with its mean deviation, as TCP smooths round trips; a class not seen yet is scaled
 * from the nearest one that has been.
 */
const CLASSES = 16;

export class BatchTimer {
  private readonly meanUs = new Float64Array(CLASSES);
  private readonly deviationUs = new Float64Array(CLASSES);
  private readonly samples = new Uint32Array(CLASSES);
  private seen = false;

  /** True once any batch has been timed. */
  get known(): boolean {
    return this.seen;
  }

  record(rows: number, us: number): void {
    const c = sizeClass(rows);
    if (this.samples[c] === 0) {
      this.meanUs[c] = us;
      this.deviationUs[c] = us / 4;
    } else {
      this.deviationUs[c] = 0.75 * this.deviationUs[c]! + 0.25 * Math.abs(us - this.meanUs[c]!);
      this.meanUs[c] = 0.875 * this.meanUs[c]! + 0.125 * us;
    }
    this.samples[c]!++;
    this.seen = true;
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
    if (!this.seen) return 0;
    const c = sizeClass(rows);
    if (this.samples[c]! > 0) return this.meanUs[c]! + deviations * this.deviationUs[c]!;
    // The nearest timed class, scaled by size: per-row cost is roughly constant above that.
    for (let d = 1; d < CLASSES; d++) {
      for (const n of [c - d, c + d]) {
        if (n < 0 || n >= CLASSES || this.samples[n] === 0) continue;
        const scale = n < c ? 2 ** (c - n) : 1;
        return (this.meanUs[n]! + deviations * this.deviationUs[n]!) * scale;
      }
    }
    return 0;
  }
}

/** 1 → 0, 2 → 1, 3-4 → 2, 5-8 → 3, ... */
function sizeClass(rows: number): number {
  return Math.min(CLASSES - 1, Math.ceil(Math.log2(Math.max(1, rows))));
}
