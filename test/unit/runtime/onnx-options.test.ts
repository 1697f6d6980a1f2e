import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelConfigSchema } from '../../../src/config/model-config.js';
import { workerOnnxOptions } from '../../../src/runtime/onnx/onnx-backend.js';

const config = (fields: Record<string, unknown>) => ModelConfigSchema.parse({ name: 'm', ...fields });

test('onnx options: with instance_cpus, ORT\'s intra-op pool is sized by the CPUs given unless set', () => {
  assert.equal(workerOnnxOptions(config({})).intra_op_threads, 0, 'unbound: left to ORT');
  assert.equal(workerOnnxOptions(config({ instance_cpus: '1' })).intra_op_threads, 1);
  assert.equal(workerOnnxOptions(config({ instance_cpus: '0,2-4' })).intra_op_threads, 4);
  assert.equal(workerOnnxOptions(config({ instance_cpus: '2-3', onnx: { intra_op_threads: 1 } })).intra_op_threads, 1, 'an explicit count is kept');
  const options = workerOnnxOptions(config({ instance_cpus: '1', onnx: { execution_providers: ['cpu'] } }));
  assert.deepEqual(options.execution_providers, ['cpu']);
});
