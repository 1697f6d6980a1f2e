import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAddConstantModel, buildLookupModel, buildSlowIdentityModel } from '../../scripts/lib/test-models.js';
import { startServer } from '../helpers/start-server.js';
import { tempRepo } from '../helpers/temp-repo.js';
import { eventually } from '../helpers/eventually.js';
import { metricValue, scrape } from '../helpers/metric-value.js';
import { httpRequest, infer, outputValues, type InferRequest } from '../helpers/v2-client.js';
import { buildMlpModel } from '../../scripts/lib/mlp-model.js';
import { Prng } from '../helpers/prng.js';

interface Rollout { id: number; state: string; percent: number; step: number; reason: string | null; candidate: number; incumbent: number }
interface Status { current: (Rollout & { window: { requests: number } }) | null; history: (Rollout & { events: { kind: string; percent: number; detail: string | null }[] })[] }

const json = { 'content-type': 'application/json' };
const x = (values: number[], key?: string): InferRequest => ({
  inputs: [{ name: 'x', datatype: 'FP32', shape: [4], data: values }],
  ...(key ? { parameters: { routing_key: key } } : {}),
});

async function startRollout(url: string, model: string, spec: object): Promise<Rollout> {
  const res = await httpRequest(`${url}/v2/admin/models/${model}/rollouts`, 'POST', JSON.stringify(spec), json);
  assert.equal(res.status, 201, res.body.toString());
  return JSON.parse(res.body.toString()) as Rollout;
}

async function status(url: string, model: string): Promise<Status> {
  const res = await httpRequest(`${url}/v2/admin/models/${model}/rollouts`, 'GET');
  assert.equal(res.status, 200, res.body.toString());
  return JSON.parse(res.body.toString()) as Status;
}

/** Sends requests (keyed 0..) until `done` holds; returns every answer's status and version. */
async function driveUntil(url: string, model: string, values: number[], done: () => Promise<boolean>, max = 4000): Promise<{ status: number; version: string | undefined }[]> {
  const out: { status: number; version: string | undefined }[] = [];
  for (let i = 0; i < max; i += 8) {
    const batch = await Promise.all(Array.from({ length: 8 }, (_, j) => infer(url, model, x(values, `k${i + j}`))));
    for (const r of batch) out.push({ status: r.status, version: r.json.model_version });
    if (await done()) return out;
  }
  throw new Error(`rollout of ${model} never reached the expected state`);
}

test('rollout: a healthy canary advances through its steps and completes', async (t) => {
  const repo = await tempRepo(t, { r: { config: { name: 'r', version_policy: { all: {} } }, versions: { 1: buildAddConstantModel(1), 2: buildAddConstantModel(2) } } });
  const { url } = await startServer(t, repo);
  await startRollout(url, 'r', { candidate: 2, steps: [10, 50, 100], step_requests: 10, step_seconds: 0, slo: { max_error_rate: 0, min_samples: 5 } });
  await driveUntil(url, 'r', [1, 2, 3, 4], async () => (await status(url, 'r')).current === null);
  const s = await status(url, 'r');
  assert.equal(s.history[0]!.state, 'completed');
  assert.deepEqual(s.history[0]!.events.map((e) => [e.kind, e.percent]), [['started', 10], ['advanced', 50], ['advanced', 100], ['completed', 100]]);
  for (let i = 0; i < 20; i++) assert.equal((await infer(url, 'r', x([0, 0, 0, 0], `after${i}`))).json.model_version, '2');
});

test('rollout: a slow candidate is rolled back on its p99 SLO within the first step', async (t) => {
  const repo = await tempRepo(t, { s: { config: { name: 's', version_policy: { all: {} } }, versions: { 1: buildAddConstantModel(0), 2: buildSlowIdentityModel(1024) } } });
  const { url } = await startServer(t, repo);
  await startRollout(url, 's', { candidate: 2, incumbent: 1, steps: [50, 100], step_requests: 1000, step_seconds: 3600, slo: { max_p99_ms: 5, min_samples: 10 } });
  const answers = await driveUntil(url, 's', [1, 2, 3, 4], async () => (await status(url, 's')).current === null, 800);
  assert.ok(answers.every((a) => a.status === 200), 'a slow candidate still answers');
  const s = await status(url, 's');
  const r = s.history[0]!;
  assert.equal(r.state, 'rolled_back');
  assert.equal(r.percent, 0);
  assert.match(r.reason ?? '', /p99 latency .* > 5 ms/);
  assert.deepEqual(r.events.map((e) => e.kind), ['started', 'rolled_back'], 'rolled back before any step advanced');
  for (let i = 0; i < 30; i++) assert.equal((await infer(url, 's', x([1, 1, 1, 1], `after${i}`))).json.model_version, '1', 'the candidate gets no more traffic');
  const text = await scrape(url);
  assert.equal(metricValue(text, 'modelplane_rollout_transitions_total', { model: 's', kind: 'rolled_back' }), 1);
  assert.equal(metricValue(text, 'modelplane_rollout_candidate_percent', { model: 's' }), 0);
});

test('rollout: a failing candidate is rolled back on its error rate; state and history survive a restart', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'mp-control-'));
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const repo = await tempRepo(t, {
    f: { config: { name: 'f', version_policy: { all: {} } }, versions: { 1: buildAddConstantModel(5), 2: buildLookupModel(8) } },
  });
  const first = await startServer(t, repo, { app: { dataDir } });
  await startRollout(first.url, 'f', { candidate: 2, steps: [25, 100], step_requests: 500, step_seconds: 3600, slo: { max_error_rate: 0.05, min_samples: 10 } });
  // Inputs beyond the lookup table make version 2 fail inside ONNX Runtime.
  const answers = await driveUntil(first.url, 'f', [20, 21, 22, 23], async () => (await status(first.url, 'f')).current === null, 800);
  const failed = answers.filter((a) => a.status !== 200);
  assert.ok(failed.length >= 1 && failed.length <= 40, `failures stop once rolled back (${failed.length})`);
  const rolledBack = (await status(first.url, 'f')).history[0]!;
  assert.equal(rolledBack.state, 'rolled_back');
  assert.match(rolledBack.reason ?? '', /error rate/);

  // A second rollout is left running at its first step when the server stops.
  await startRollout(first.url, 'f', { candidate: 2, steps: [30, 100], step_requests: 100_000, step_seconds: 3600, slo: { max_error_rate: 1 } });
  await first.app.close();

  const second = await startServer(t, repo, { app: { dataDir } });
  const s = await status(second.url, 'f');
  assert.equal(s.current?.state, 'running');
  assert.equal(s.current?.percent, 30);
  assert.deepEqual(s.history.map((h) => h.state), ['running', 'rolled_back']);
  assert.deepEqual(s.history[0]!.events.map((e) => e.kind), ['started', 'resumed']);
  const versions = await Promise.all(Array.from({ length: 400 }, (_, i) => infer(second.url, 'f', x([1, 2, 3, 4], `user${i}`)).then((r) => r.json.model_version)));
  const share = versions.filter((v) => v === '2').length / versions.length;
  assert.ok(share > 0.2 && share < 0.4, `the resumed split gives the candidate ~30% (${share})`);

  const abort = await httpRequest(`${second.url}/v2/admin/models/f/rollouts/abort`, 'POST');
  assert.equal(abort.status, 200, abort.body.toString());
  assert.equal((JSON.parse(abort.body.toString()) as Rollout).state, 'aborted');
  for (let i = 0; i < 20; i++) assert.equal((await infer(second.url, 'f', x([1, 2, 3, 4], `user${i}`))).json.model_version, '1');
  const again = await httpRequest(`${second.url}/v2/admin/models/f/rollouts/abort`, 'POST');
  assert.equal(again.status, 404);
});

test('rollout: a candidate that disagrees with the incumbent is rolled back on its agreement SLO', async (t) => {
  const mlp = (seed: number) => buildMlpModel({ features: 32, hidden: [16], classes: 4, seed });
  const repo = await tempRepo(t, { a: { config: { name: 'a', max_batch_size: 8, version_policy: { all: {} } }, versions: { 1: mlp(61), 2: mlp(62) } } });
  const { url } = await startServer(t, repo);
  const top1 = async (input: number[], version: number) => {
    const res = await infer(url, 'a', { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 32], data: input }], outputs: [{ name: 'label' }] }, version);
    return Number(outputValues(res.outputs.get('label')!)[0]);
  };
  const prng = new Prng(3);
  let input: number[] = [];
  for (let i = 0; i < 200; i++) {
    input = Array.from({ length: 32 }, () => prng.next() * 4 - 2);
    if ((await top1(input, 1)) !== (await top1(input, 2))) break;
  }
  assert.notEqual(await top1(input, 1), await top1(input, 2), 'found an input the versions disagree on');
  await startRollout(url, 'a', {
    candidate: 2, steps: [10, 100], step_requests: 10_000, step_seconds: 3600,
    slo: { min_agreement: 0.9, min_samples: 10 }, compare: { output: 'probabilities', compare: 'top1' },
  });
  const request: InferRequest = { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 32], data: input }] };
  for (let i = 0; i < 400 && (await status(url, 'a')).current !== null; i++) {
    await Promise.all(Array.from({ length: 4 }, (_, j) => infer(url, 'a', { ...request, parameters: { routing_key: `u${i}-${j}` } })));
  }
  const r = (await status(url, 'a')).history[0]!;
  assert.equal(r.state, 'rolled_back');
  assert.match(r.reason ?? '', /agreement with the incumbent 0\.0000 < 0\.9/);
});

test('rollout: a candidate removed from the repository mid-rollout is rolled back; a policy change releases the weights', async (t) => {
  const repo = await tempRepo(t, { g: { config: { name: 'g', version_policy: { all: {} } }, versions: { 1: buildAddConstantModel(1), 2: buildAddConstantModel(2), 3: buildAddConstantModel(3) } } });
  const { url } = await startServer(t, repo, { app: { modelControlMode: 'poll', repositoryPollSecs: 0.1 } });
  await startRollout(url, 'g', { candidate: 3, incumbent: 1, steps: [50, 100], step_requests: 100_000, step_seconds: 3600, slo: { max_error_rate: 0.1, min_samples: 10 } });
  await rm(join(repo, 'g', '3'), { recursive: true });
  await eventually(async () => (await infer(url, 'g', x([0, 0, 0, 0]), 3)).status === 404, 'version 3 retired');
  await driveUntil(url, 'g', [0, 0, 0, 0], async () => (await status(url, 'g')).current === null, 800);
  const r = (await status(url, 'g')).history[0]!;
  assert.equal(r.state, 'rolled_back');
  for (let i = 0; i < 20; i++) assert.equal((await infer(url, 'g', x([0, 0, 0, 0], `z${i}`))).json.model_version, '1', 'the incumbent keeps all traffic, not the highest version');
  const del = await httpRequest(`${url}/v2/admin/models/g/traffic`, 'DELETE');
  assert.equal(del.status, 200);
  assert.equal((await status(url, 'g')).history[0]!.events.at(-1)!.kind, 'released');
  assert.equal((await infer(url, 'g', x([0, 0, 0, 0]))).json.model_version, '2', 'with the weights released, the highest READY version serves');
});

test('rollout: invalid specs and conflicts are refused with the field named', async (t) => {
  const repo = await tempRepo(t, { v: { config: { name: 'v', version_policy: { all: {} } }, versions: { 1: buildAddConstantModel(1), 2: buildAddConstantModel(2) } } });
  const { url } = await startServer(t, repo);
  const post = (body: string) => httpRequest(`${url}/v2/admin/models/v/rollouts`, 'POST', body, json);
  const bad = await post(JSON.stringify({ candidate: 2, steps: [50, 10] }));
  assert.equal(bad.status, 400);
  assert.match(bad.body.toString(), /steps/);
  const noCompare = await post(JSON.stringify({ candidate: 2, slo: { min_agreement: 0.9 } }));
  assert.equal(noCompare.status, 400);
  assert.match(noCompare.body.toString(), /compare/);
  assert.equal((await post(JSON.stringify({ candidate: 9 }))).status, 503);
  assert.equal((await post(JSON.stringify({ candidate: 2, step_seconds: 3600 }))).status, 201);
  assert.equal((await post(JSON.stringify({ candidate: 2 }))).status, 409);
  await eventually(async () => (await status(url, 'v')).current?.state === 'running', 'running');
});
