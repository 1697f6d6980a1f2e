/**
 * What search and evidence linking need from a text embedding model, and nothing more.
 *
 * Contract: `embed(texts)` resolves with one vector per text, in order, each of length `dimension`
 * and L2-normalised (so cosine similarity is a dot product). The caller owns the returned arrays.
 * Safe to call concurrently; an implementation may batch concurrent calls together.
 */
export interface TextEmbedder {
  /** A name for logs and collection metadata, e.g. `use-lite`. */
  readonly model: string;
  readonly dimension: number;
  embed(texts: readonly string[]): Promise<Float32Array[]>;
}

/** L2-normalises `v` in place (a zero vector stays zero) and returns it. */
export function normalise(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  if (s > 0) {
    const inv = 1 / Math.sqrt(s);
    for (let i = 0; i < v.length; i++) v[i] = v[i]! * inv;
  }
  return v;
}

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
