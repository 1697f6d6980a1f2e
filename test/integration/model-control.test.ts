import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildMlpModel } from '../../scripts/lib/mlp-model.js';
import { buildSlowIdentityModel } from '../../scripts/lib/test-models.js';
import { startServer } from '../helpers/start-server.js';
import { tempRepo } from '../helpers/temp-repo.js';
import { eventually } from '../helpers/eventually.js';
import { httpRequest, infer, outputValues, type InferRequest } from '../helpers/v2-client.js';

interface IndexEntry { name: string; version: string; state: string; reason: string }

const mlp = (seed: number) => buildMlpModel({ features: 32, hidden: [16], classes: 4, seed });
const sample: InferRequest = {
  inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 32], data: Array.from({ length: 32 }, (_, i) => (i % 7) / 3 - 1) }],
  outputs: [{ name: 'probabilities' }],
};

async function index(url: string): Promise<IndexEntry[]> {
  const res = await httpRequest(`${url}/v2/repository/index`, 'POST', '{}', { 'content-type': 'application/json' });
  assert.equal(res.status, 200);
  return JSON.parse(res.body.toString()) as IndexEntry[];
}

/** Writes a version directory next to the model and renames it into place, so a poll never sees half a file. */
async function addVersion(repo: string, model: string, version: number, bytes: Uint8Array): Promise<void> {
  const staging = join(repo, model, `.staging-${version}`);
  await mkdir(staging, { recursive: true });
  await writeFile(join(staging, 'model.onnx'), bytes);
  await rename(staging, join(repo, model, String(version)));
}

async function probabilities(url: string, model: string, version?: number): Promise<string> {
  const res = await infer(url, model, sample, version);
  assert.equal(res.status, 200, res.jsonText);
  return JSON.stringify(outputValues(res.outputs.get('probabilities')!));
}

test('model control (poll): versions swap under concurrent load with zero failed requests', async (t) => {
  const repo = await tempRepo(t, {
    m: { config: { name: 'm', max_batch_size: 8, version_policy: { all: {} }, dynamic_batching: {} }, versions: { 1: mlp(101) } },
  });
  const { url } = await startServer(t, repo, { app: { modelControlMode: 'poll', repositoryPollSecs: 0.1 } });
  const expected = new Map<string, string>([['1', await probabilities(url, 'm', 1)]]);

  const seen: string[] = [];
  const failures: string[] = [];
  let stop = false;
  const worker = async () => {
    while (!stop) {
      const res = await infer(url, 'm', sample);
      if (res.status !== 200) {
        failures.push(`${res.status} ${res.jsonText}`);
        continue;
      }
      const version = res.json.model_version!;
      seen.push(version);
      const probs = JSON.stringify(outputValues(res.outputs.get('probabilities')!));
      if (expected.has(version) && expected.get(version) !== probs) failures.push(`version ${version} answered with other weights`);
    }
  };
  const load = Array.from({ length: 6 }, worker);

  await addVersion(repo, 'm', 2, mlp(202));
  await eventually(async () => seen.slice(-20).every((v) => v === '2') && seen.length > 20, 'responses from version 2');
  expected.set('2', await probabilities(url, 'm', 2));
  assert.notEqual(expected.get('1'), expected.get('2'), 'the two versions answer differently');

  await rm(join(repo, 'm', '1'), { recursive: true });
  await eventually(async () => !(await index(url)).some((e) => e.name === 'm' && e.version === '1'), 'version 1 unloaded');
  const v1Gone = await infer(url, 'm', sample, 1);
  assert.equal(v1Gone.status, 404, v1Gone.jsonText);

  await addVersion(repo, 'm', 3, randomBytes(2048));
  const broken = await eventually(async () => (await index(url)).find((e) => e.name === 'm' && e.version === '3' && e.state === 'UNAVAILABLE'), 'version 3 reported');
  assert.match(broken.reason, /onnx|load|protobuf|model/i);
  const countBefore = seen.length;
  await eventually(async () => seen.length > countBefore + 50, 'more traffic after version 3 appeared');
  stop = true;
  await Promise.all(load);

  t.diagnostic(`${seen.length} requests during the swaps: ${seen.filter((v) => v === '1').length} answered by version 1, ${seen.filter((v) => v === '2').length} by version 2, ${failures.length} failed`);
  assert.deepEqual(failures, [], 'no request failed during the swaps');
  assert.ok(!seen.includes('3'), 'the broken version never answered');
  const firstV2 = seen.indexOf('2');
  assert.ok(seen.indexOf('1') === 0 && firstV2 > 0, 'traffic moved from version 1 to version 2');
  assert.ok(!seen.slice(firstV2 + 50).includes('1'), 'version 1 stops answering once version 2 serves');
  const v3 = await infer(url, 'm', sample, 3);
  assert.equal(v3.status, 503, v3.jsonText);
});

test('model control (poll): with latest:1, a broken new version leaves the working one serving until it is fixed', async (t) => {
  const repo = await tempRepo(t, { n: { config: { name: 'n' }, versions: { 1: mlp(11) } } });
  const { url } = await startServer(t, repo, { app: { modelControlMode: 'poll', repositoryPollSecs: 0.1 } });
  await addVersion(repo, 'n', 2, randomBytes(1024));
  const v2 = await eventually(async () => (await index(url)).find((e) => e.name === 'n' && e.version === '2' && e.state === 'UNAVAILABLE'), 'version 2 unavailable');
  assert.ok(v2.reason.length > 0);
  assert.equal((await index(url)).find((e) => e.name === 'n' && e.version === '1')?.state, 'READY');
  const res = await infer(url, 'n', sample);
  assert.equal(res.status, 200, res.jsonText);
  assert.equal(res.json.model_version, '1');
  // Fixing the file (new size and mtime) reloads version 2; then the policy retires version 1.
  await writeFile(join(repo, 'n', '2', 'model.onnx'), mlp(22));
  await eventually(async () => {
    const entries = (await index(url)).filter((e) => e.name === 'n');
    return entries.length === 1 && entries[0]!.version === '2' && entries[0]!.state === 'READY';
  }, 'version 2 serving alone');
  assert.equal((await infer(url, 'n', sample)).json.model_version, '2');
});

test('model control (explicit): load with a config override, unload, and refusals in other modes', async (t) => {
  const repo = await tempRepo(t, { e: { config: { name: 'e', max_batch_size: 4 }, versions: { 1: mlp(5) } } });
  const { url } = await startServer(t, repo, { app: { modelControlMode: 'explicit' } });
  const post = (path: string, body = '') => httpRequest(`${url}${path}`, 'POST', body, { 'content-type': 'application/json' });

  const unload = await post('/v2/repository/models/e/unload');
  assert.equal(unload.status, 200, unload.body.toString());
  const after = await infer(url, 'e', sample);
  assert.equal(after.status, 503);
  assert.match(after.json.error ?? '', /unloaded/);
  assert.equal((await index(url)).find((e) => e.name === 'e')?.state, 'UNAVAILABLE');

  const override = JSON.stringify({ parameters: { config: JSON.stringify({ name: 'e', max_batch_size: 2 }) } });
  const load = await post('/v2/repository/models/e/load', override);
  assert.equal(load.status, 200, load.body.toString());
  const config = await httpRequest(`${url}/v2/models/e/config`, 'GET');
  assert.equal((JSON.parse(config.body.toString()) as { max_batch_size: number }).max_batch_size, 2, 'the override applies');
  assert.equal((await infer(url, 'e', sample)).status, 200);

  const badOverride = await post('/v2/repository/models/e/load', JSON.stringify({ config: { name: 'e', max_batch_size: -1 } }));
  assert.equal(badOverride.status, 503, badOverride.body.toString());
  assert.match(badOverride.body.toString(), /max_batch_size/);
  assert.equal((await infer(url, 'e', sample)).status, 200, 'a failed reload leaves the loaded version serving');

  assert.equal((await post('/v2/repository/models/nope/load')).status, 404);
  assert.equal((await post('/v2/repository/models/e/load', '{"bogus": 1}')).status, 400);

  const none = await startServer(t, repo);
  const refused = await httpRequest(`${none.url}/v2/repository/models/e/load`, 'POST', '', {});
  assert.equal(refused.status, 501);
  assert.match(refused.body.toString(), /explicit/);
});

test('model control (explicit): a reload swaps only after warm-up and drains the old instance\'s in-flight requests', async (t) => {
  const repo = await tempRepo(t, { slow: { config: { name: 'slow', max_batch_size: 0 }, versions: { 1: buildSlowIdentityModel(768) } } });
  const { url, app } = await startServer(t, repo, { app: { modelControlMode: 'explicit' } });
  const request: InferRequest = { inputs: [{ name: 'x', datatype: 'FP32', shape: [4], data: [1, 2, 3, 4] }] };
  const before = app.manager.resolve('slow');
  const inFlight = Array.from({ length: 6 }, () => infer(url, 'slow', request));
  await eventually(async () => before.batcher.queued > 0, 'requests queued on the old instance', 200, 5);
  const override = JSON.stringify({ config: { name: 'slow', max_batch_size: 0, parameters: { generation: 2 } } });
  const reload = await httpRequest(`${url}/v2/repository/models/slow/load`, 'POST', override, { 'content-type': 'application/json' });
  assert.equal(reload.status, 200, reload.body.toString());
  const after = app.manager.resolve('slow');
  assert.notEqual(after, before, 'a new context serves');
  assert.equal(after.config.parameters.generation, 2);
  assert.equal(before.batcher.queued, 0, 'the load answered only after the old context drained');
  const answers = await Promise.all(inFlight);
  for (const a of answers) assert.equal(a.status, 200, a.jsonText);
  assert.equal((await infer(url, 'slow', request)).status, 200);
});

test('model control (poll): a changed config reloads every version; a broken edit leaves the loaded config serving', async (t) => {
  const repo = await tempRepo(t, { c: { config: { name: 'c', max_batch_size: 4 }, versions: { 1: mlp(71) } } });
  const { url } = await startServer(t, repo, { app: { modelControlMode: 'poll', repositoryPollSecs: 0.1 } });
  const maxBatch = async () => (JSON.parse((await httpRequest(`${url}/v2/models/c/config`, 'GET')).body.toString()) as { max_batch_size: number }).max_batch_size;
  assert.equal(await maxBatch(), 4);
  await writeFile(join(repo, 'c', 'config.json'), JSON.stringify({ name: 'c', max_batch_size: 2 }));
  await eventually(async () => (await maxBatch()) === 2, 'the new config serves');
  await writeFile(join(repo, 'c', 'config.json'), JSON.stringify({ name: 'c', max_batch_size: 'lots' }));
  const entry = await eventually(async () => (await index(url)).find((e) => e.name === 'c' && /reload failed/.test(e.reason)), 'the failed reload reported');
  assert.equal(entry.state, 'READY');
  assert.match(entry.reason, /max_batch_size/);
  assert.equal(await maxBatch(), 2, 'the loaded config keeps serving');
  assert.equal((await infer(url, 'c', sample)).status, 200);
});
