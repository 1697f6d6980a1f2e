import type { NumericArray } from '../tensor/datatype.js';
import type { Tensor } from '../tensor/tensor.js';

function rows(t: Tensor): { data: NumericArray; count: number; width: number } | undefined {
  if (t.datatype === 'BYTES' || t.datatype === 'FP16') return undefined;
  const data = t.data as NumericArray;
  const count = t.shape.length > 1 ? t.shape[0]! : 1;
  return { data, count, width: count === 0 ? 0 : data.length / count };
}

/** Whether every row has the same arg-max in both tensors (classifiers). Undefined when not comparable. */
export function sameTop1(a: Tensor, b: Tensor): boolean | undefined {
  const ra = rows(a);
  const rb = rows(b);
  if (!ra || !rb || ra.count !== rb.count || ra.width !== rb.width) return undefined;
  for (let r = 0; r < ra.count; r++) if (argMax(ra.data, r * ra.width, ra.width) !== argMax(rb.data, r * rb.width, rb.width)) return false;
  return true;
}

/** Whether every row's cosine similarity is at least `threshold` (embeddings). Undefined when not comparable. */
export function cosineAtLeast(a: Tensor, b: Tensor, threshold: number): boolean | undefined {
  const ra = rows(a);
  const rb = rows(b);
  if (!ra || !rb || ra.count !== rb.count || ra.width !== rb.width) return undefined;
  for (let r = 0; r < ra.count; r++) {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let j = 0; j < ra.width; j++) {
      const x = Number(ra.data[r * ra.width + j]);
      const y = Number(rb.data[r * rb.width + j]);
      dot += x * y;
      na += x * x;
      nb += y * y;
    }
    const cos = na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
    if (cos < threshold) return false;
  }
  return true;
}

/** The lowest of the rows' top scores (a request escalates when any row is unsure). */
export function minTopScore(t: Tensor): number | undefined {
  const r = rows(t);
  if (!r) return undefined;
  let min = Infinity;
  for (let i = 0; i < r.count; i++) {
    const at = argMax(r.data, i * r.width, r.width);
    min = Math.min(min, Number(r.data[i * r.width + at]));
  }
  return min;
}

function argMax(data: NumericArray, offset: number, width: number): number {
  let best = 0;
  for (let j = 1; j < width; j++) if (Number(data[offset + j]) > Number(data[offset + best])) best = j;
  return best;
}
