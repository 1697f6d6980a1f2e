/**
 * Picks a version by weight. With a key the pick is a pure function of (key, weights): FNV-1a of the
 * key mapped onto [0, 1), so one user keeps seeing one version while the weights stay the same, and
 * raising a canary's weight only moves users from the incumbent to the candidate (cumulative ranges).
 */
export class WeightedSplit<T extends { readonly weight: number }> {
  private readonly targets: T[];
  /** Cumulative upper bounds in [0, 1]; targets[i] owns [bounds[i-1], bounds[i]). */
  private readonly bounds: number[];

  constructor(targets: readonly T[]) {
    const total = targets.reduce((s, t) => s + t.weight, 0);
    this.targets = [];
    this.bounds = [];
    let acc = 0;
    for (const t of targets) {
      if (t.weight <= 0) continue;
      acc += t.weight / total;
      this.targets.push(t);
      this.bounds.push(acc);
    }
    this.bounds[this.bounds.length - 1] = 1;
  }

  pick(key: string | undefined, random: () => number = Math.random): T {
    const u = key === undefined ? random() : unitHash(key);
    for (let i = 0; i < this.bounds.length; i++) if (u < this.bounds[i]!) return this.targets[i]!;
    return this.targets[this.targets.length - 1]!;
  }
}

/** FNV-1a (32-bit) of a string, scaled to [0, 1). */
export function unitHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // A final avalanche (murmur3 fmix32) so keys differing in the last character spread evenly.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}
