import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { buildMlpModel } from '../../scripts/lib/mlp-model.js';
import { addSubConfig, buildAddConstantModel, buildAddSubModel, buildIdentityModel, identityConfig } from '../../scripts/lib/test-models.js';
import { startServer } from '../helpers/start-server.js';
import { tempRepo } from '../helpers/temp-repo.js';
import { errorMessage, getJson, httpRequest, infer, outputValues, type InferResponse } from '../helpers/v2-client.js';

interface TensorMeta { name: string; datatype: string; shape: number[] }
interface ModelMeta { name: string; versions?: string[]; platform: string; inputs: TensorMeta[]; outputs: TensorMeta[] }
interface IndexEntry { name: string; version?: string; state?: string; reason?: string }

const x4 = (values: number[]) => ({ inputs: [{ name: 'x', datatype: 'FP32', shape: [4], data: values }] });

test('v2 endpoints', async (t) => {
  const repo = await tempRepo(t, {
    simple: { config: addSubConfig('simple'), versions: { 1: buildAddSubModel() } },
    identity: { config: identityConfig('identity', ['FP32', 'BYTES']), versions: { 1: buildIdentityModel(['FP32', 'BYTES']) } },
    broken: { config: { name: 'broken', backend: 'onnx' }, versions: { 1: randomBytes(512) } },
    mlp: {
      config: {
        name: 'mlp', max_batch_size: 16,
        inputs: [{ name: 'input', datatype: 'FP32', dims: [8] }],
        outputs: [
          { name: 'logits', datatype: 'FP32', dims: [3] },
          { name: 'probabilities', datatype: 'FP32', dims: [3] },
          { name: 'label', datatype: 'INT64', dims: [] },
        ],
        dynamic_batching: { max_queue_delay_us: 5000 },
      },
      versions: { 1: buildMlpModel({ features: 8, hidden: [16], classes: 3, seed: 11 }) },
    },
    multi: {
      config: { name: 'multi', version_policy: { all: {} } },
      versions: { 1: buildAddConstantModel(100), 2: buildAddConstantModel(200), 3: randomBytes(300) },
    },
  });
  const { url } = await startServer(t, repo);

  await t.test('health: live and ready answer 200', async () => {
    assert.equal((await httpRequest(`${url}/v2/health/live`, 'GET')).status, 200);
    assert.equal((await httpRequest(`${url}/v2/health/ready`, 'GET')).status, 200);
  });

  await t.test('server metadata: name, version and the extensions it implements', async () => {
    const { status, json } = await getJson(`${url}/v2`);
    assert.equal(status, 200);
    const meta = json as { name: unknown; version: unknown; extensions: unknown };
    assert.equal(typeof meta.name, 'string');
    assert.ok((meta.name as string).length > 0);
    assert.equal(typeof meta.version, 'string');
    assert.ok(Array.isArray(meta.extensions));
    for (const ext of ['binary_tensor_data', 'classification']) assert.ok((meta.extensions as string[]).includes(ext), `extensions include ${ext}`);
  });

  await t.test('model metadata: batch dimension shown as -1, datatypes and versions', async () => {
    for (const path of ['/v2/models/simple', '/v2/models/simple/versions/1']) {
      const { status, json } = await getJson(`${url}${path}`);
      assert.equal(status, 200, path);
      const meta = json as ModelMeta;
      assert.equal(meta.name, 'simple');
      assert.deepEqual(meta.versions, ['1']);
      assert.equal(typeof meta.platform, 'string');
      assert.deepEqual(meta.inputs, [
        { name: 'INPUT0', datatype: 'INT32', shape: [-1, 16] },
        { name: 'INPUT1', datatype: 'INT32', shape: [-1, 16] },
      ]);
      assert.deepEqual(meta.outputs, [
        { name: 'OUTPUT0', datatype: 'INT32', shape: [-1, 16] },
        { name: 'OUTPUT1', datatype: 'INT32', shape: [-1, 16] },
      ]);
    }
  });

  await t.test('model metadata: a model without batching shows its own dims only', async () => {
    const { status, json } = await getJson(`${url}/v2/models/identity`);
    assert.equal(status, 200);
    const meta = json as ModelMeta;
    assert.deepEqual(meta.inputs, [
      { name: 'INPUT_FP32', datatype: 'FP32', shape: [-1, -1] },
      { name: 'INPUT_BYTES', datatype: 'BYTES', shape: [-1, -1] },
    ]);
    assert.deepEqual(meta.outputs.map((o) => o.name), ['OUTPUT_FP32', 'OUTPUT_BYTES']);
  });

  await t.test('model metadata: versions lists the ready versions of a multi-version model', async () => {
    const { status, json } = await getJson(`${url}/v2/models/multi`);
    assert.equal(status, 200);
    assert.deepEqual([...((json as ModelMeta).versions ?? [])].sort(), ['1', '2']);
  });

  await t.test('model config: the served config, as JSON', async () => {
    const { status, json } = await getJson(`${url}/v2/models/simple/config`);
    assert.equal(status, 200);
    const config = json as { name: string; max_batch_size: number; inputs: { name: string; dims: number[] }[] };
    assert.equal(config.name, 'simple');
    assert.equal(config.max_batch_size, 8);
    assert.deepEqual(config.inputs.map((i) => [i.name, i.dims]), [['INPUT0', [16]], ['INPUT1', [16]]]);
    assert.equal((await getJson(`${url}/v2/models/simple/versions/1/config`)).status, 200);
  });

  await t.test('model ready: 200 for a ready model and version, 503 for an unavailable one, 404 for unknown', async () => {
    assert.equal((await httpRequest(`${url}/v2/models/simple/ready`, 'GET')).status, 200);
    assert.equal((await httpRequest(`${url}/v2/models/simple/versions/1/ready`, 'GET')).status, 200);
    assert.equal((await httpRequest(`${url}/v2/models/multi/ready`, 'GET')).status, 200, 'an older ready version keeps the model ready');
    assert.equal((await httpRequest(`${url}/v2/models/multi/versions/2/ready`, 'GET')).status, 200);
    const v3 = await httpRequest(`${url}/v2/models/multi/versions/3/ready`, 'GET');
    assert.equal(v3.status, 503);
    assert.match(errorMessage(v3), /multi/);
    const broken = await httpRequest(`${url}/v2/models/broken/ready`, 'GET');
    assert.equal(broken.status, 503);
    assert.match(errorMessage(broken), /broken/);
    for (const path of ['/v2/models/nope/ready', '/v2/models/simple/versions/9/ready']) {
      const res = await httpRequest(`${url}${path}`, 'GET');
      assert.equal(res.status, 404, path);
      assert.equal(typeof errorMessage(res), 'string');
    }
  });

  await t.test('model metadata: unknown model or version is 404, unavailable model is 503', async () => {
    for (const path of ['/v2/models/nope', '/v2/models/simple/versions/2', '/v2/models/simple/versions/0', '/v2/models/simple/versions/abc', '/v2/models/nope/config']) {
      const res = await httpRequest(`${url}${path}`, 'GET');
      assert.equal(res.status, 404, path);
      assert.ok(errorMessage(res).length > 0, path);
    }
    const res = await httpRequest(`${url}/v2/models/broken`, 'GET');
    assert.equal(res.status, 503);
    assert.match(errorMessage(res), /broken/);
  });

  await t.test('infer: sums and differences from the simple model, model_name and model_version echoed', async () => {
    const a = Array.from({ length: 16 }, (_, i) => i);
    const b = Array.from({ length: 16 }, (_, i) => 2 * i - 7);
    const res = await infer(url, 'simple', {
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: a },
        { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: b },
      ],
    });
    assert.equal(res.status, 200, res.jsonText);
    assert.equal(res.json.model_name, 'simple');
    assert.equal(res.json.model_version, '1');
    assert.deepEqual(res.json.outputs.map((o) => [o.name, o.datatype, o.shape]), [['OUTPUT0', 'INT32', [1, 16]], ['OUTPUT1', 'INT32', [1, 16]]]);
    assert.deepEqual(outputValues(res.outputs.get('OUTPUT0')!), a.map((v, i) => v + b[i]!));
    assert.deepEqual(outputValues(res.outputs.get('OUTPUT1')!), a.map((v, i) => v - b[i]!));
  });

  await t.test('infer: without a version the highest ready version serves; a version path picks that one', async () => {
    const latest = await infer(url, 'multi', x4([1, 2, 3, 4]));
    assert.equal(latest.status, 200, latest.jsonText);
    assert.equal(latest.json.model_version, '2');
    assert.deepEqual(outputValues(latest.outputs.get('y')!), [201, 202, 203, 204]);
    const v1 = await infer(url, 'multi', x4([1, 2, 3, 4]), 1);
    assert.equal(v1.status, 200, v1.jsonText);
    assert.equal(v1.json.model_version, '1');
    assert.deepEqual(outputValues(v1.outputs.get('y')!), [101, 102, 103, 104]);
  });

  await t.test('infer: concurrent requests batched together each get their own rows back', async () => {
    const requests = Array.from({ length: 24 }, (_, r) => {
      const batch = 1 + (r % 3);
      return Array.from({ length: batch * 8 }, (_, i) => Math.cos(r * 31 + i) * 4);
    });
    const one = (data: number[]) => infer(url, 'mlp', { inputs: [{ name: 'input', datatype: 'FP32', shape: [data.length / 8, 8], data }] });
    const alone: InferResponse[] = [];
    for (const data of requests) alone.push(await one(data));
    const together = await Promise.all(requests.map(one));
    together.forEach((res, r) => {
      assert.equal(res.status, 200, res.jsonText);
      const batch = requests[r]!.length / 8;
      assert.deepEqual(res.outputs.get('logits')!.shape, [batch, 3]);
      assert.deepEqual(res.outputs.get('label')!.shape, [batch]);
      const want = outputValues(alone[r]!.outputs.get('logits')!) as number[];
      const got = outputValues(res.outputs.get('logits')!) as number[];
      got.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-5, `request ${r} logit ${i}: ${v} vs ${want[i]}`));
      assert.deepEqual(outputValues(res.outputs.get('label')!), outputValues(alone[r]!.outputs.get('label')!), `request ${r} labels`);
    });
  });

  await t.test('infer: unknown model or version is 404, an unavailable model or version is 503', async () => {
    const unknownModel = await infer(url, 'nope', x4([0, 0, 0, 0]));
    assert.equal(unknownModel.status, 404);
    assert.match(unknownModel.json.error ?? '', /nope/);
    const unknownVersion = await infer(url, 'multi', x4([0, 0, 0, 0]), 7);
    assert.equal(unknownVersion.status, 404);
    assert.equal(typeof unknownVersion.json.error, 'string');
    const unavailableVersion = await infer(url, 'multi', x4([0, 0, 0, 0]), 3);
    assert.equal(unavailableVersion.status, 503);
    assert.match(unavailableVersion.json.error ?? '', /multi/);
    const unavailable = await infer(url, 'broken', x4([0, 0, 0, 0]));
    assert.equal(unavailable.status, 503);
    assert.match(unavailable.json.error ?? '', /broken/);
  });

  await t.test('repository index: every model and version with its state, and why a failed one failed', async () => {
    for (const body of [undefined, '', '{}']) {
      const res = await httpRequest(`${url}/v2/repository/index`, 'POST', body, body === undefined ? {} : { 'content-type': 'application/json' });
      assert.equal(res.status, 200, `body ${JSON.stringify(body)}: ${res.body.toString()}`);
      const index = JSON.parse(res.body.toString()) as IndexEntry[];
      const find = (name: string, version: string) => index.find((e) => e.name === name && e.version === version);
      assert.equal(find('simple', '1')?.state, 'READY');
      assert.equal(find('identity', '1')?.state, 'READY');
      assert.equal(find('multi', '1')?.state, 'READY');
      assert.equal(find('multi', '2')?.state, 'READY');
      const multi3 = find('multi', '3');
      assert.equal(multi3?.state, 'UNAVAILABLE');
      assert.ok((multi3?.reason ?? '').length > 0, 'a failed version carries its reason');
      const broken = find('broken', '1');
      assert.equal(broken?.state, 'UNAVAILABLE');
      assert.match(broken?.reason ?? '', /onnx|load|model/i);
    }
  });

  await t.test('repository index: {"ready": true} lists only the models ready for inferencing', async () => {
    const res = await httpRequest(`${url}/v2/repository/index`, 'POST', '{"ready":true}', { 'content-type': 'application/json' });
    assert.equal(res.status, 200);
    const index = JSON.parse(res.body.toString()) as IndexEntry[];
    assert.ok(index.some((e) => e.name === 'simple'), 'ready models are listed');
    assert.ok(!index.some((e) => e.name === 'broken'), 'an UNAVAILABLE model is not listed');
  });

  await t.test('unknown routes answer 404 with a v2 error body', async () => {
    const res = await httpRequest(`${url}/v2/nothing/here`, 'GET');
    assert.equal(res.status, 404);
    assert.ok(errorMessage(res).length > 0);
  });
});
