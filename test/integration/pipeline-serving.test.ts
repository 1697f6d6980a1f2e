import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp } from '../../src/app.js';
import { HttpModelInvoker } from '../../src/pipeline/http-model-invoker.js';
import { ServingModelInvoker } from '../../src/pipeline/serving-invoker.js';

const MODELS = join(import.meta.dirname, '../../examples/models');
const features = (seed: number) => Array.from({ length: 32 }, (_, i) => Math.cos(seed + i / 3));

async function modelStats(url: string): Promise<{ inference_count: number }> {
  const body = (await (await fetch(`${url}/v2/models/mlp-classifier/versions/1/stats`)).json()) as { model_stats: Array<{ inference_count: number }> };
  return body.model_stats[0]!;
}

test('pipelines in the server: model steps run through the server scheduler and give the online answer', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mp-serve-pipes-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'pipelines.yaml');
  writeFileSync(file, 'pipelines:\n  - name: classify\n    steps:\n      - { name: classify, model: mlp-classifier, outputs: [label, probabilities] }\n');
  const app = await startApp({
    repository: MODELS, host: '127.0.0.1', port: 0, bodyLimitBytes: 1 << 20, logger: false,
    pipelines: { file, dataDir: join(dir, 'q'), workerConcurrency: 4 },
  });
  t.after(() => app.close());
  const before = await modelStats(app.url);
  const runIds: string[] = [];
  for (let i = 0; i < 6; i++) {
    const res = await fetch(`${app.url}/v1/pipelines/classify/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': `k${i}` },
      body: JSON.stringify({ input: { input: { datatype: 'FP32', shape: [1, 32], data: features(i) } } }),
    });
    assert.equal(res.status, 202, await res.clone().text());
    runIds.push(((await res.json()) as { runId: string }).runId);
  }
  for (let i = 0; i < runIds.length; i++) {
    let s: { state: string; result: { classify: { label: { data: number[] }; probabilities: { data: number[] } } } } | undefined;
    for (let tries = 0; tries < 200; tries++) {
      s = (await (await fetch(`${app.url}/v1/pipelines/classify/runs/${runIds[i]}`)).json()) as typeof s;
      if (s!.state === 'completed' || s!.state === 'dead') break;
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(s!.state, 'completed', JSON.stringify(s));
    const online = await fetch(`${app.url}/v2/models/mlp-classifier/infer`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 32], data: features(i) }], outputs: [{ name: 'label' }] }),
    });
    const label = ((await online.json()) as { outputs: Array<{ data: number[] }> }).outputs[0]!.data;
    assert.deepEqual(s!.result.classify.label.data, label, `run ${i} classified like an online request`);
  }
  const after = await modelStats(app.url);
  assert.equal(after.inference_count - before.inference_count, runIds.length * 2, 'every pipeline inference went through the scheduler (plus the online checks)');
});

test('pipelines: the HTTP invoker and the in-process invoker give the same tensors', async (t) => {
  const app = await startApp({ repository: MODELS, host: '127.0.0.1', port: 0, bodyLimitBytes: 1 << 20, logger: false });
  t.after(() => app.close());
  const inputs = new Map([['input', { name: 'input', datatype: 'FP32' as const, shape: [2, 32], data: Float32Array.from([...features(1), ...features(2)]) }]]);
  const viaHttp = await new HttpModelInvoker(app.url).infer('mlp-classifier', inputs, { outputs: ['probabilities', 'label'] });
  const inProcess = await new ServingModelInvoker(app.manager).infer('mlp-classifier', inputs, { outputs: ['probabilities', 'label'] });
  for (const name of ['probabilities', 'label']) {
    assert.deepEqual(viaHttp.get(name)!.shape, inProcess.get(name)!.shape);
    assert.deepEqual(Array.from(viaHttp.get(name)!.data as Float32Array), Array.from(inProcess.get(name)!.data as Float32Array));
  }
  await assert.rejects(new HttpModelInvoker(app.url).infer('no-such-model', inputs), (err: Error & { code?: string }) => err.code === 'MP_MODEL_NOT_FOUND');
});
