/** Order statistics for benchmark samples. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** The middle value; for an even count the mean of the two middle ones (not the lower, which would flatter latency). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Spread of repeated runs as (max - min) / median, in percent. */
export function spreadPercent(values: readonly number[]): number {
  const m = median(values);
  return m === 0 ? 0 : ((Math.max(...values) - Math.min(...values)) / m) * 100;
}

/** The ramp a closed-loop run of `seconds` leaves out of its steady-state rate: 0.5 s, or a quarter of a shorter run. */
export function steadyRampMs(seconds: number): number {
  return Math.min(500, (seconds * 1000) / 4);
}

/**
 * Steady-state completions per second: the least-squares slope of the completion count against the
 * completion time, over the completions after `rampMs` from the first one. A closed loop's first
 * moments (connections opening, the first partial batches) and the requests still in flight when the
 * load stops are not part of the rate the system sustains; a count over the whole wall time charges
 * both to it (at concurrency 64 and ~80 ms per batch, about one batch in a 3 s run). The slope is
 * also independent of where a batch-synchronous staircase of completions happens to start and end,
 * which a count over a window is not (one batch = 3% of a 3 s count).
 */
export function steadyRatePerSecond(completionMs: readonly number[], rampMs: number, untilMs = Number.POSITIVE_INFINITY): number {
  if (completionMs.length < 2) return NaN;
  const from = completionMs[0]! + rampMs;
  let n = 0, sumT = 0, sumI = 0, sumTT = 0, sumTI = 0;
  for (let i = 0; i < completionMs.length; i++) {
    const t = completionMs[i]!;
    if (t < from || t > untilMs) continue;
    n++;
    sumT += t;
    sumI += i;
    sumTT += t * t;
    sumTI += t * i;
  }
  if (n < 2) return NaN;
  const varT = sumTT - (sumT * sumT) / n;
  return varT > 0 ? ((sumTI - (sumT * sumI) / n) / varT) * 1000 : NaN;
}
