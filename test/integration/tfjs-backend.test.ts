import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { tfjsReady } from '../../src/runtime/tfjs/tfjs-engine.js';
import { startServer } from '../helpers/start-server.js';
import { tempRepo } from '../helpers/temp-repo.js';
import { maxAbsDiff } from '../../scripts/lib/use-direct.js';

/** A small seeded dense classifier: 6 features -> 5 ReLU -> 3 softmax. */
function buildLayersModel(): tfl.LayersModel {
  const model = tfl.sequential();
  model.add(tfl.layers.dense({ inputShape: [6], units: 5, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }), biasInitializer: 'ones' }));
  model.add(tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 4 }) }));
  return model;
}

/** Saves a layers model as model.json + weights.bin, as tensorflowjs_converter would. */
async function saveLayersModel(model: tfl.LayersModel, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const weights = artifacts.weightData as ArrayBuffer;
    await writeFile(join(dir, 'weights.bin'), Buffer.from(weights));
    await writeFile(join(dir, 'model.json'), JSON.stringify({
      format: 'layers-model',
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
    }));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
}

test('tfjs backend: a layers model is served through v2 and equals a direct predict; broken model files are UNAVAILABLE with a reason', async (t) => {
  await tfjsReady();
  const model = buildLayersModel();
  const repo = await tempRepo(t, {
    broken: { config: { backend: 'tfjs' }, versions: { 1: new TextEncoder().encode('{"modelTopology": 1}') }, filename: 'model.json' },
    escaping: {
      config: { backend: 'tfjs' },
      versions: { 1: new TextEncoder().encode(JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['../../secret.bin'], weights: [] }] })) },
      filename: 'model.json',
    },
  });
  await saveLayersModel(model, join(repo, 'dense', '1'));
  await writeFile(join(repo, 'dense', 'config.json'), JSON.stringify({ backend: 'tfjs', max_batch_size: 8, dynamic_batching: { max_queue_delay_us: 1000 } }));
  // The same model on the main thread (instance_kind inline) instead of a worker thread (the default).
  await saveLayersModel(model, join(repo, 'dense-inline', '1'));
  await writeFile(join(repo, 'dense-inline', 'config.json'), JSON.stringify({ backend: 'tfjs', max_batch_size: 8, instance_kind: 'inline', instance_count: 2 }));
  const server = await startServer(t, repo);

  const metaRes = await fetch(`${server.url}/v2/models/dense`);
  const meta = await metaRes.json() as { platform: string; inputs: Array<{ shape: number[]; datatype: string }>; outputs: Array<{ name: string; shape: number[] }> };
  assert.equal(metaRes.status, 200, JSON.stringify(meta));
  assert.equal(meta.platform, 'tfjs');
  assert.deepEqual(meta.inputs.map((i) => [i.datatype, i.shape]), [['FP32', [-1, 6]]]);
  assert.deepEqual(meta.outputs[0]!.shape, [-1, 3]);

  const x = Array.from({ length: 4 * 6 }, (_, i) => Math.sin(i) * 2);
  const direct = model.predict(tf.tensor2d(x, [4, 6])) as tf.Tensor;
  const want = Array.from(await direct.data());
  direct.dispose();
  for (const name of ['dense', 'dense-inline']) {
    const res = await fetch(`${server.url}/v2/models/${name}/infer`, {
      method: 'POST',
      body: JSON.stringify({ inputs: [{ name: (meta as unknown as { inputs: Array<{ name: string }> }).inputs[0]!.name, datatype: 'FP32', shape: [4, 6], data: x }] }),
    });
    assert.equal(res.status, 200, `${name}: ${await res.clone().text()}`);
    const served = (await res.json() as { outputs: Array<{ shape: number[]; data: number[] }> }).outputs[0]!;
    assert.deepEqual(served.shape, [4, 3]);
    assert.ok(maxAbsDiff(served.data, want) <= 1e-6, `${name}: ${served.data} vs ${want}`);
  }

  const index = await (await fetch(`${server.url}/v2/repository/index`, { method: 'POST' })).json() as Array<{ name: string; state: string; reason: string }>;
  assert.match(index.find((m) => m.name === 'broken')!.reason, /not a TF\.js model\.json: .*weightsManifest/);
  assert.match(index.find((m) => m.name === 'escaping')!.reason, /weight path '\.\.\/\.\.\/secret\.bin' leaves the model directory/);
  assert.equal(index.find((m) => m.name === 'dense')!.state, 'READY');
  assert.equal(index.find((m) => m.name === 'dense-inline')!.state, 'READY');
});
