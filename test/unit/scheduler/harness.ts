import { ModelConfigSchema, type ModelConfigInput } from '../../../src/config/model-config.js';
import { MpError } from '../../../src/errors.js';
import { ServingContext, type InferOptions } from '../../../src/lifecycle/serving-context.js';
import { EchoInstance } from '../../../src/runtime/echo/echo-backend.js';
import { InstancePool } from '../../../src/runtime/instance-pool.js';
import { batchLayout } from '../../../src/scheduler/batch-assembler.js';
import { batchPolicy } from '../../../src/scheduler/batch-policy.js';
import { DynamicBatcher } from '../../../src/scheduler/dynamic-batcher.js';
import type { TensorMap } from '../../../src/tensor/tensor.js';
import { FakeClock } from './fake-clock.js';

export interface Outcome {
  settled: boolean;
  outputs?: TensorMap;
  error?: MpError;
}

/** A scheduler over echo instances and a fake clock: `x` FP32 with the given dims -> `out_x`. */
export function harness(overrides: Partial<ModelConfigInput>, instanceCount = 1, dims: number[] = [2], clock = new FakeClock()) {
  const config = ModelConfigSchema.parse({
    name: 'echo',
    max_batch_size: 8,
    inputs: [{ name: 'x', datatype: 'FP32', dims }],
    outputs: [{ name: 'out_x', datatype: 'FP32', dims }],
    dynamic_batching: {},
    ...overrides,
  });
  const signature = { inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [-1, ...dims] }], outputs: [{ name: 'out_x', datatype: 'FP32' as const, shape: [-1, ...dims] }] };
  const instances = Array.from({ length: instanceCount }, () => new EchoInstance(signature));
  const pool = new InstancePool(instances);
  const layout = batchLayout(config);
  const batcher = new DynamicBatcher(pool, layout, batchPolicy(config), clock);
  const ctx = new ServingContext('echo', 1, config, 'echo', batcher, layout, pool);

  /** Submits `rows` rows whose values are `tag + row/10 + col/100`, so every row is recognisable. */
  const submit = (tag: number, rows = 1, options: InferOptions = {}, width = dims[0] === -1 ? 2 : dims[0]!): Outcome => {
    const data = new Float32Array(rows * width);
    for (let r = 0; r < rows; r++) for (let c = 0; c < width; c++) data[r * width + c] = tag + r / 10 + c / 100;
    const outcome: Outcome = { settled: false };
    ctx.infer(new Map([['x', { name: 'x', datatype: 'FP32', shape: [rows, width], data }]]), options).then(
      (outputs) => Object.assign(outcome, { settled: true, outputs }),
      (error: MpError) => Object.assign(outcome, { settled: true, error }),
    );
    return outcome;
  };

  /** The tags of the requests in each batch an instance ran, from the first value of each row. */
  const batchTags = (instance = 0): number[][] =>
    instances[instance]!.batches.map((b) => {
      const t = b.get('x')!;
      const width = t.shape[1]!;
      return Array.from({ length: t.shape[0]! }, (_, r) => Math.floor((t.data as Float32Array)[r * width]!));
    });

  return { config, instances, pool, clock, batcher, ctx, submit, batchTags };
}

/** Lets promise callbacks run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
