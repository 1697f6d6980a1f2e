import { MpError } from '../errors.js';
import type { NumericArray, TensorData } from '../tensor/datatype.js';
import type { Tensor, TensorMap } from '../tensor/tensor.js';
import type { ModelConfig } from '../config/model-config.js';
import type { InferenceRequest } from './inference-request.js';

/** What the assembler needs to know about a model, prepared once at load. */
export interface BatchLayout {
  readonly batched: boolean;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Padded inputs in a fixed order: name, non-batch dimension, fill value. */
  readonly paddedInputs: ReadonlyArray<{ readonly name: string; readonly dim: number; readonly value: number }>;
  /** Outputs trimmed back per request: name, non-batch dim, index into paddedInputs. */
  readonly trimmedOutputs: ReadonlyMap<string, { readonly dim: number; readonly padIndex: number }>;
  /** Outputs every batch computes whatever the requests asked for (their confidence is recorded). */
  readonly scoredOutputs: readonly string[];
}

export function batchLayout(config: ModelConfig): BatchLayout {
  const padding = config.dynamic_batching?.padding ?? { inputs: {}, outputs: {} };
  const paddedInputs = Object.entries(padding.inputs).map(([name, p]) => ({ name, dim: p.dim, value: p.value }));
  const trimmedOutputs = new Map<string, { dim: number; padIndex: number }>();
  for (const [name, p] of Object.entries(padding.outputs)) {
    const padIndex = paddedInputs.findIndex((i) => i.name === p.input);
    if (padIndex >= 0) trimmedOutputs.set(name, { dim: p.dim, padIndex });
  }
  return {
    batched: config.max_batch_size > 0,
    inputNames: config.inputs.map((i) => i.name),
    outputNames: config.outputs.map((o) => o.name),
    paddedInputs,
    trimmedOutputs,
    scoredOutputs: config.outputs.filter((o) => o.confidence !== undefined).map((o) => o.name),
  };
}

/** The union of outputs the requests of a batch asked for, plus the scored outputs. */
export function outputsForBatch(layout: BatchLayout, requests: readonly InferenceRequest[]): readonly string[] {
  if (requests.length === 1 && layout.scoredOutputs.length === 0) return requests[0]!.outputNames ?? layout.outputNames;
  const wanted = new Set<string>(layout.scoredOutputs);
  for (const r of requests) {
    if (!r.outputNames) return layout.outputNames;
    for (const n of r.outputNames) wanted.add(n);
  }
  return layout.outputNames.filter((n) => wanted.has(n));
}

/** The batch's length along each padded input dimension: the longest request's. */
export function batchPadLengths(layout: BatchLayout, requests: readonly InferenceRequest[]): number[] {
  return layout.paddedInputs.map((_, k) => Math.max(...requests.map((r) => r.padLengths[k]!)));
}

/**
 * Concatenates the requests' inputs along the batch dimension, padding variable dimensions to
 * `padLengths` (from batchPadLengths). A batch of one passes its tensors through untouched (no copy).
 */
export function assembleInputs(layout: BatchLayout, requests: readonly InferenceRequest[], padLengths: readonly number[]): TensorMap {
  if (requests.length === 1) return requests[0]!.inputs;
  const first = requests[0]!;
  const total = requests.reduce((n, r) => n + r.batchSize, 0);
  const out: TensorMap = new Map();
  for (const name of layout.inputNames) {
    const model = first.inputs.get(name)!;
    const padIndex = layout.paddedInputs.findIndex((p) => p.name === name);
    const itemShape = model.shape.slice(1);
    if (padIndex >= 0) {
      const pad = layout.paddedInputs[padIndex]!;
      itemShape[pad.dim] = padLengths[padIndex]!;
      out.set(name, concatPadded(name, requests, total, itemShape, pad.dim, pad.value));
    } else {
      out.set(name, concatPlain(name, requests, total, itemShape));
    }
  }
  return out;
}

function product(dims: readonly number[], from = 0, to = dims.length): number {
  let n = 1;
  for (let i = from; i < to; i++) n *= dims[i]!;
  return n;
}

function allocLike(model: Tensor, length: number): TensorData {
  if (model.datatype === 'BYTES') return new Array<Uint8Array>(length);
  const ctor = (model.data as NumericArray).constructor as new (n: number) => NumericArray;
  return new ctor(length);
}

function concatPlain(name: string, requests: readonly InferenceRequest[], total: number, itemShape: number[]): Tensor {
  const model = requests[0]!.inputs.get(name)!;
  const itemSize = product(itemShape);
  const data = allocLike(model, total * itemSize);
  let offset = 0;
  for (const r of requests) {
    const src = r.inputs.get(name)!.data;
    if (Array.isArray(data)) {
      const items = src as Uint8Array[];
      for (let i = 0; i < items.length; i++) data[offset + i] = items[i]!;
    } else {
      (data as Float32Array).set(src as Float32Array, offset);
    }
    offset += r.batchSize * itemSize;
  }
  return { name, datatype: model.datatype, shape: [total, ...itemShape], data };
}

function concatPadded(
  name: string,
  requests: readonly InferenceRequest[],
  total: number,
  itemShape: number[],
  dim: number,
  value: number,
): Tensor {
  const model = requests[0]!.inputs.get(name)!;
  const inner = product(itemShape, dim + 1);
  const padded = itemShape[dim]!;
  const data = allocLike(model, total * product(itemShape));
  fill(data, value);
  let rowOffset = 0; // in units of (padded * inner)
  for (const r of requests) {
    const t = r.inputs.get(name)!;
    const len = t.shape[dim + 1]!;
    const rows = r.batchSize * product(t.shape, 1, dim + 1);
    copyRows(t.data, data, rows, len * inner, padded * inner, rowOffset * padded * inner);
    rowOffset += rows;
  }
  return { name, datatype: model.datatype, shape: [total, ...itemShape], data };
}

function fill(data: TensorData, value: number): void {
  if (Array.isArray(data)) data.fill(new Uint8Array(0));
  else if (data instanceof BigInt64Array || data instanceof BigUint64Array) data.fill(BigInt(Math.trunc(value)));
  else if (value !== 0) (data as Float32Array).fill(value);
}

/** Copies `rows` rows of `srcRow` elements into rows of `dstRow` elements (srcRow <= dstRow). */
function copyRows(src: TensorData, dst: TensorData, rows: number, srcRow: number, dstRow: number, dstStart: number): void {
  if (Array.isArray(dst)) {
    const s = src as Uint8Array[];
    for (let r = 0; r < rows; r++) for (let i = 0; i < srcRow; i++) dst[dstStart + r * dstRow + i] = s[r * srcRow + i]!;
    return;
  }
  const s = src as Float32Array;
  const d = dst as Float32Array;
  for (let r = 0; r < rows; r++) d.set(s.subarray(r * srcRow, (r + 1) * srcRow), dstStart + r * dstRow);
}

/**
 * Slices each request's rows back out of the batch outputs (views, not copies, unless an output is
 * trimmed along a padded dimension) and answers the requests `first` to `end` (exclusive). Returns
 * how many were answered.
 */
export function scatterOutputs(
  layout: BatchLayout,
  requests: readonly InferenceRequest[],
  outputs: TensorMap,
  batchPadLengths: readonly number[],
  first = 0,
  end = requests.length,
): number {
  let answered = 0;
  if (requests.length === 1 && layout.trimmedOutputs.size === 0) {
    return first === 0 && end > 0 && requests[0]!.resolve(pick(outputs, requests[0]!.outputNames)) ? 1 : 0;
  }
  let offset = 0;
  for (let i = 0; i < first; i++) offset += requests[i]!.batchSize;
  for (let i = first; i < end; i++) {
    const r = requests[i]!;
    const mine: TensorMap = new Map();
    for (const name of r.outputNames ?? layout.outputNames) {
      const t = outputs.get(name);
      if (!t) continue;
      if (layout.batched && t.shape[0] !== undefined && t.shape[0] < offset + r.batchSize) {
        r.reject(new MpError('MP_BACKEND', `output '${name}' has ${t.shape[0]} rows for a batch that needs ${offset + r.batchSize}`));
        break;
      }
      mine.set(name, sliceRequest(layout, t, offset, r, batchPadLengths));
    }
    if (r.resolve(mine)) answered++;
    offset += r.batchSize;
  }
  return answered;
}

function pick(outputs: TensorMap, names: readonly string[] | undefined): TensorMap {
  if (!names) return outputs;
  const out: TensorMap = new Map();
  for (const n of names) {
    const t = outputs.get(n);
    if (t) out.set(n, t);
  }
  return out;
}

function sliceRequest(layout: BatchLayout, t: Tensor, offset: number, r: InferenceRequest, batchPadLengths: readonly number[]): Tensor {
  const itemShape = t.shape.slice(1);
  const itemSize = product(itemShape);
  const trim = layout.trimmedOutputs.get(t.name);
  if (!trim || itemShape[trim.dim] === undefined) {
    const start = offset * itemSize;
    const end = start + r.batchSize * itemSize;
    const data = Array.isArray(t.data) ? t.data.slice(start, end) : (t.data as Float32Array).subarray(start, end);
    return { name: t.name, datatype: t.datatype, shape: [r.batchSize, ...itemShape], data };
  }
  // Output length scales with the padded input: keep ceil(own / padded * outPadded) steps.
  const outPadded = itemShape[trim.dim]!;
  const own = r.padLengths[trim.padIndex]!;
  const batchLen = batchPadLengths[trim.padIndex]!;
  const keep = Math.min(outPadded, Math.ceil((own * outPadded) / batchLen));
  const inner = product(itemShape, trim.dim + 1);
  const rows = r.batchSize * product(itemShape, 0, trim.dim);
  const shape = [r.batchSize, ...itemShape];
  shape[trim.dim + 1] = keep;
  const data = allocLike(t, rows * keep * inner);
  const src = Array.isArray(t.data) ? t.data.slice(offset * itemSize) : (t.data as Float32Array).subarray(offset * itemSize);
  for (let row = 0; row < rows; row++) {
    const from = row * outPadded * inner;
    if (Array.isArray(data)) {
      const s = src as Uint8Array[];
      for (let i = 0; i < keep * inner; i++) data[row * keep * inner + i] = s[from + i]!;
    } else {
      (data as Float32Array).set((src as Float32Array).subarray(from, from + keep * inner), row * keep * inner);
    }
  }
  return { name: t.name, datatype: t.datatype, shape, data };
}
