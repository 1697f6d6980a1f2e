import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildAddConstantModel, buildSlowIdentityModel } from '../../scripts/lib/test-models.js';
import { startServer } from '../helpers/start-server.js';
import { tempRepo } from '../helpers/temp-repo.js';
import { getJson, infer, outputValues } from '../helpers/v2-client.js';

test('instance_kind auto: a model that computes in microseconds runs on the main thread, a slow one in its own; both answer', async (t) => {
  const repo = await tempRepo(t, {
    quick: { config: { name: 'quick' }, versions: { 1: buildAddConstantModel(5) } },
    // A 768 x 768 matmul per request: milliseconds, far above the inline bound.
    slow: { config: { name: 'slow', max_batch_size: 4 }, versions: { 1: buildSlowIdentityModel(768, 4, true) } },
    // Told to run in a thread, it does, however quick.
    told: { config: { name: 'told', instance_kind: 'worker' }, versions: { 1: buildAddConstantModel(7) } },
  });
  const { url } = await startServer(t, repo);
  for (const [model, kind] of [['quick', 'inline'], ['slow', 'worker'], ['told', 'worker']] as const) {
    const config = await getJson(`${url}/v2/models/${model}/config`);
    assert.equal(config.status, 200);
    assert.equal((config.json as { instance_kind: string }).instance_kind, kind, `${model}: the completed config says which kind runs`);
  }
  const quick = await infer(url, 'quick', { inputs: [{ name: 'x', datatype: 'FP32', shape: [4], data: [1, 2, 3, 4] }] });
  assert.deepEqual(outputValues(quick.outputs.get('y')!), [6, 7, 8, 9]);
  const slow = await infer(url, 'slow', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] });
  assert.deepEqual(outputValues(slow.outputs.get('y')!), [1, 2, 3, 4]);
});
