/**
 * Token states [rows, length, dim] to one vector per row. `mean` averages the positions whose
 * mask is 1 (sentence-transformers' mean pooling); `cls` takes position 0.
 */
export function poolTokens(
  states: Float32Array, rows: number, length: number, dim: number,
  mask: Uint8Array, mode: 'mean' | 'cls',
): Float32Array {
  const out = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    if (mode === 'cls') {
      out.set(states.subarray(r * length * dim, r * length * dim + dim), o);
      continue;
    }
    let count = 0;
    for (let p = 0; p < length; p++) {
      if (mask[r * length + p] === 0) continue;
      count++;
      const s = (r * length + p) * dim;
      for (let d = 0; d < dim; d++) out[o + d]! += states[s + d]!;
    }
    const scale = 1 / Math.max(1, count);
    for (let d = 0; d < dim; d++) out[o + d]! *= scale;
  }
  return out;
}

/** Scales each row of `vectors` [rows, dim] to unit L2 norm in place (an all-zero row stays zero). */
export function normalizeRows(vectors: Float32Array, rows: number, dim: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    let sum = 0;
    for (let d = 0; d < dim; d++) sum += vectors[o + d]! * vectors[o + d]!;
    if (sum === 0) continue;
    const scale = 1 / Math.sqrt(sum);
    for (let d = 0; d < dim; d++) vectors[o + d]! *= scale;
  }
}
