/**
 * Small generated ONNX models for the integration tests. Every model is built from standard ONNX
 * operators with the project's ONNX writer, so tests need no downloaded weights.
 */
import { DATATYPES, type DataType } from '../../src/tensor/datatype.js';
import { encodeModel, type Node } from '../../src/runtime/onnx/onnx-model-writer.js';

export { DATATYPES };
export type { DataType };

/** The tensor names of the identity model for one datatype. */
export function identityNames(datatype: DataType): { input: string; output: string } {
  return { input: `INPUT_${datatype}`, output: `OUTPUT_${datatype}` };
}

/**
 * One Identity node per datatype: `INPUT_<DT>` [a, b] -> `OUTPUT_<DT>` [a, b] for all 13 v2 datatypes,
 * so every datatype can round-trip through a real runtime. Both dimensions are variable.
 */
export function buildIdentityModel(datatypes: readonly DataType[] = DATATYPES): Uint8Array {
  return encodeModel({
    name: 'identity',
    inputs: datatypes.map((dt) => ({ name: identityNames(dt).input, datatype: dt, dims: [`a_${dt}`, `b_${dt}`] })),
    outputs: datatypes.map((dt) => ({ name: identityNames(dt).output, datatype: dt, dims: [`a_${dt}`, `b_${dt}`] })),
    nodes: datatypes.map((dt) => ({ op: 'Identity', inputs: [identityNames(dt).input], outputs: [identityNames(dt).output] })),
  });
}

/** The config that serves `buildIdentityModel()` without a batch dimension. */
export function identityConfig(name: string, datatypes: readonly DataType[] = DATATYPES): object {
  return {
    name,
    backend: 'onnx',
    max_batch_size: 0,
    inputs: datatypes.map((dt) => ({ name: identityNames(dt).input, datatype: dt, dims: [-1, -1] })),
    outputs: datatypes.map((dt) => ({ name: identityNames(dt).output, datatype: dt, dims: [-1, -1] })),
  };
}

/**
 * Triton's classic `simple` model: INPUT0, INPUT1 [batch, 16] -> OUTPUT0 = INPUT0 + INPUT1,
 * OUTPUT1 = INPUT0 - INPUT1, with a variable batch dimension.
 */
export function buildAddSubModel(datatype: DataType = 'INT32', width = 16): Uint8Array {
  return encodeModel({
    name: 'add_sub',
    inputs: [
      { name: 'INPUT0', datatype, dims: ['batch', width] },
      { name: 'INPUT1', datatype, dims: ['batch', width] },
    ],
    outputs: [
      { name: 'OUTPUT0', datatype, dims: ['batch', width] },
      { name: 'OUTPUT1', datatype, dims: ['batch', width] },
    ],
    nodes: [
      { op: 'Add', inputs: ['INPUT0', 'INPUT1'], outputs: ['OUTPUT0'] },
      { op: 'Sub', inputs: ['INPUT0', 'INPUT1'], outputs: ['OUTPUT1'] },
    ],
  });
}

export function addSubConfig(name: string, datatype: DataType = 'INT32', maxBatchSize = 8, width = 16): object {
  return {
    name,
    backend: 'onnx',
    max_batch_size: maxBatchSize,
    inputs: [
      { name: 'INPUT0', datatype, dims: [width] },
      { name: 'INPUT1', datatype, dims: [width] },
    ],
    outputs: [
      { name: 'OUTPUT0', datatype, dims: [width] },
      { name: 'OUTPUT1', datatype, dims: [width] },
    ],
  };
}

/**
 * FP32 x [n] -> y [n] = x + offset. Versions of one model built with different offsets answer
 * differently, so a test can tell which version served a request.
 */
export function buildAddConstantModel(offset: number, width = 4): Uint8Array {
  return encodeModel({
    name: 'add_constant',
    inputs: [{ name: 'x', datatype: 'FP32', dims: [width] }],
    outputs: [{ name: 'y', datatype: 'FP32', dims: [width] }],
    nodes: [{ op: 'Add', inputs: ['x', 'offset'], outputs: ['y'] }],
    initializers: [{ name: 'offset', dims: [1], data: new Float32Array([offset]) }],
  });
}

/**
 * FP32 x [width] (or [batch, width]) -> y equal to x, after a deliberately expensive side computation that y
 * depends on (a size x size MatMul of a tensor derived from x, multiplied by zero), so each
 * inference keeps an instance busy long enough for requests to be in flight during shutdown.
 * Tanh bounds the intermediate values, so the product with zero is always exactly zero.
 */
export function buildSlowIdentityModel(size = 768, width = 4, batched = false): Uint8Array {
  const dims = batched ? ['batch', width] : [width];
  const nodes: Node[] = [
    { op: 'ReduceSum', inputs: ['x'], outputs: ['s'], attributes: { keepdims: 1 } },
    { op: 'Reshape', inputs: ['s', 'shape11'], outputs: ['s11'] },
    { op: 'Expand', inputs: ['s11', 'square'], outputs: ['big'] },
    { op: 'Tanh', inputs: ['big'], outputs: ['bounded'] },
    { op: 'MatMul', inputs: ['bounded', 'bounded'], outputs: ['product'] },
    { op: 'ReduceSum', inputs: ['product'], outputs: ['total'], attributes: { keepdims: 0 } },
    { op: 'Mul', inputs: ['total', 'zero'], outputs: ['nothing'] },
    { op: 'Add', inputs: ['x', 'nothing'], outputs: ['y'] },
  ];
  return encodeModel({
    name: 'slow_identity',
    inputs: [{ name: 'x', datatype: 'FP32', dims }],
    outputs: [{ name: 'y', datatype: 'FP32', dims }],
    nodes,
    initializers: [
      { name: 'shape11', dims: [2], data: new BigInt64Array([1n, 1n]) },
      { name: 'square', dims: [2], data: new BigInt64Array([BigInt(size), BigInt(size)]) },
      { name: 'zero', dims: [], data: new Float32Array([0]) },
    ],
  });
}

/**
 * FP32 x [width] -> y [width] = table[int(x)] with a `size`-entry table (y = 10 * index): serves
 * inputs in [0, size) and fails at run time, inside ONNX Runtime, for anything larger. A candidate
 * version that passes warm-up (zeros) and then fails on real traffic.
 */
export function buildLookupModel(size = 8, width = 4): Uint8Array {
  return encodeModel({
    name: 'lookup',
    inputs: [{ name: 'x', datatype: 'FP32', dims: [width] }],
    outputs: [{ name: 'y', datatype: 'FP32', dims: [width] }],
    nodes: [
      { op: 'Cast', inputs: ['x'], outputs: ['index'], attributes: { to: 7 } },
      { op: 'Gather', inputs: ['table', 'index'], outputs: ['y'], attributes: { axis: 0 } },
    ],
    initializers: [{ name: 'table', dims: [size], data: Float32Array.from({ length: size }, (_, i) => 10 * i) }],
  });
}
