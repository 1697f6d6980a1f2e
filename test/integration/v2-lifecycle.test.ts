import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { buildAddConstantModel, buildAddSubModel, buildSlowIdentityModel } from '../../scripts/lib/test-models.js';
import { startCli, startServer } from '../helpers/start-server.js';
import { tempRepo } from '../helpers/temp-repo.js';
import { errorMessage, getJson, httpRequest, infer, outputValues, type InferRequest } from '../helpers/v2-client.js';

interface IndexEntry { name: string; version: string; state: string; reason: string }

const x4 = (values: number[]): InferRequest => ({ inputs: [{ name: 'x', datatype: 'FP32', shape: [4], data: values }] });

async function index(url: string): Promise<IndexEntry[]> {
  const res = await httpRequest(`${url}/v2/repository/index`, 'POST', '{}', { 'content-type': 'application/json' });
  assert.equal(res.status, 200);
  return JSON.parse(res.body.toString()) as IndexEntry[];
}

test('lifecycle: broken models beside a good one', async (t) => {
  const repo = await tempRepo(t, {
    good: { versions: { 1: buildAddConstantModel(1) } },
    corrupt: { config: { name: 'corrupt', backend: 'onnx' }, versions: { 1: randomBytes(4096) } },
    badconfig: { config: { name: 'badconfig', max_batch_size: -3 }, versions: { 1: buildAddConstantModel(2) } },
    badjson: { config: '{"name": "badjson", ', versions: { 1: buildAddConstantModel(3) } },
    wronginput: {
      config: { name: 'wronginput', inputs: [{ name: 'x2', datatype: 'FP32', dims: [4] }] },
      versions: { 1: buildAddConstantModel(4) },
    },
    yamlconfig: { configYaml: 'name: yamlconfig\nmax_batch_size: 0\n', versions: { 1: buildAddConstantModel(5) } },
  });
  const { url } = await startServer(t, repo);

  await t.test('lifecycle: the good models serve', async () => {
    const res = await infer(url, 'good', x4([1, 2, 3, 4]));
    assert.equal(res.status, 200, res.jsonText);
    assert.deepEqual(outputValues(res.outputs.get('y')!), [2, 3, 4, 5]);
    const yaml = await infer(url, 'yamlconfig', x4([0, 0, 0, 0]));
    assert.equal(yaml.status, 200, yaml.jsonText);
    assert.deepEqual(outputValues(yaml.outputs.get('y')!), [5, 5, 5, 5]);
  });

  const bad: Array<[string, RegExp]> = [
    ['corrupt', /onnx|load|protobuf|model/i],
    ['badconfig', /max_batch_size/],
    ['badjson', /JSON/],
    ['wronginput', /x2/],
  ];

  await t.test('lifecycle: the broken models are UNAVAILABLE with a reason in the repository index', async () => {
    const entries = await index(url);
    assert.equal(entries.find((e) => e.name === 'good')?.state, 'READY');
    for (const [name, reason] of bad) {
      const entry = entries.find((e) => e.name === name);
      assert.ok(entry, `${name} is listed`);
      assert.equal(entry.state, 'UNAVAILABLE', name);
      assert.match(entry.reason, reason, name);
    }
  });

  await t.test('lifecycle: inference on a broken model is 503 with the reason, readiness is not 200', async () => {
    for (const [name, reason] of bad) {
      const res = await infer(url, name, x4([1, 2, 3, 4]));
      assert.equal(res.status, 503, `${name}: ${res.jsonText}`);
      assert.match(res.json.error ?? '', reason, name);
      const ready = await httpRequest(`${url}/v2/models/${name}/ready`, 'GET');
      assert.equal(ready.status, 503, name);
      assert.equal(typeof errorMessage(ready), 'string');
    }
  });
});

test('lifecycle: the version policy decides which versions serve', async (t) => {
  const versions = { 1: buildAddConstantModel(10), 2: buildAddConstantModel(20), 3: buildAddConstantModel(30) };
  const repo = await tempRepo(t, {
    vdefault: { config: { name: 'vdefault' }, versions },
    vlatest: { config: { name: 'vlatest', version_policy: { latest: { num_versions: 2 } } }, versions },
    vall: { config: { name: 'vall', version_policy: { all: {} } }, versions },
    vspecific: { config: { name: 'vspecific', version_policy: { specific: { versions: [1, 3] } } }, versions },
  });
  const { url } = await startServer(t, repo);
  const expected: Record<string, number[]> = { vdefault: [3], vlatest: [2, 3], vall: [1, 2, 3], vspecific: [1, 3] };
  for (const [model, serving] of Object.entries(expected)) {
    await t.test(`version policy: ${model} serves versions ${serving.join(', ')}`, async () => {
      for (const v of [1, 2, 3]) {
        const res = await infer(url, model, x4([0, 1, 2, 3]), v);
        if (serving.includes(v)) {
          assert.equal(res.status, 200, `${model} v${v}: ${res.jsonText}`);
          assert.equal(res.json.model_version, String(v));
          assert.deepEqual(outputValues(res.outputs.get('y')!), [0, 1, 2, 3].map((x) => x + 10 * v));
        } else {
          assert.equal(res.status, 404, `${model} v${v} is not served: ${res.jsonText}`);
        }
      }
      const latest = await infer(url, model, x4([0, 0, 0, 0]));
      assert.equal(latest.json.model_version, String(Math.max(...serving)), 'no version = the highest served');
      const { json } = await getJson(`${url}/v2/models/${model}`);
      assert.deepEqual([...((json as { versions: string[] }).versions)].sort(), serving.map(String));
    });
  }
});

test('lifecycle: a model without a config gets one auto-completed from its ONNX file', async (t) => {
  const repo = await tempRepo(t, {
    batched: { versions: { 1: buildAddSubModel('INT32') } },
    fixed: { versions: { 1: buildAddConstantModel(0.5) } },
  });
  const { url } = await startServer(t, repo);

  await t.test('auto-complete: a variable first dimension becomes the batch dimension', async () => {
    const { status, json } = await getJson(`${url}/v2/models/batched/config`);
    assert.equal(status, 200);
    const config = json as { name: string; max_batch_size: number; inputs: { name: string; datatype: string; dims: number[] }[]; outputs: { name: string; datatype: string; dims: number[] }[] };
    assert.equal(config.name, 'batched');
    assert.ok(config.max_batch_size > 0, 'batching enabled');
    assert.deepEqual(config.inputs.map((i) => [i.name, i.datatype, i.dims]), [['INPUT0', 'INT32', [16]], ['INPUT1', 'INT32', [16]]]);
    assert.deepEqual(config.outputs.map((o) => [o.name, o.datatype, o.dims]), [['OUTPUT0', 'INT32', [16]], ['OUTPUT1', 'INT32', [16]]]);
    const meta = await getJson(`${url}/v2/models/batched`);
    assert.deepEqual((meta.json as { inputs: { shape: number[] }[] }).inputs.map((i) => i.shape), [[-1, 16], [-1, 16]]);
    const a = Array.from({ length: 32 }, (_, i) => i);
    const res = await infer(url, 'batched', {
      inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [2, 16], data: a }, { name: 'INPUT1', datatype: 'INT32', shape: [2, 16], data: a }],
    });
    assert.equal(res.status, 200, res.jsonText);
    assert.deepEqual(outputValues(res.outputs.get('OUTPUT0')!), a.map((v) => 2 * v));
    assert.deepEqual(outputValues(res.outputs.get('OUTPUT1')!), a.map(() => 0));
  });

  await t.test('auto-complete: fixed dimensions mean no batching', async () => {
    const { status, json } = await getJson(`${url}/v2/models/fixed/config`);
    assert.equal(status, 200);
    const config = json as { max_batch_size: number; inputs: { name: string; datatype: string; dims: number[] }[] };
    assert.equal(config.max_batch_size, 0);
    assert.deepEqual(config.inputs.map((i) => [i.name, i.datatype, i.dims]), [['x', 'FP32', [4]]]);
    const res = await infer(url, 'fixed', x4([1, 2, 3, 4]));
    assert.equal(res.status, 200, res.jsonText);
    assert.deepEqual(outputValues(res.outputs.get('y')!), [1.5, 2.5, 3.5, 4.5]);
  });
});

/**
 * Hang guard for shutdown tests: the exit code, or 'still running' when the process has not exited
 * this long after every response was delivered (a graceful shutdown then has nothing left to do).
 */
async function exitAfterResponses(exited: Promise<number | string>, graceMs = 5_000): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still running'), graceMs)));
  try {
    return await Promise.race([exited, guard]);
  } finally {
    clearTimeout(timer);
  }
}

test('lifecycle: SIGTERM while ~50 requests are in flight answers every one with 200, then exits 0', { timeout: 60_000 }, async (t) => {
  const repo = await tempRepo(t, {
    slow: {
      config: { name: 'slow', max_batch_size: 0, instance_count: 1, onnx: { intra_op_threads: 1 } },
      versions: { 1: buildSlowIdentityModel(768) },
    },
  });
  const cli = await startCli(t, repo);
  const inputs = Array.from({ length: 50 }, (_, i) => [i, i + 0.5, -i, 7]);
  const BEFORE_SIGTERM = 10;
  let settled = 0;
  let reached!: () => void;
  const barrier = new Promise<void>((resolve) => (reached = resolve));
  const count = () => {
    if (++settled === BEFORE_SIGTERM) reached();
  };
  const requests = inputs.map((x) =>
    infer(cli.url, 'slow', x4(x)).then(
      (res) => {
        count();
        return res;
      },
      (err: unknown) => {
        count();
        throw err;
      },
    ),
  );
  // The model serves one request at a time; after ten answers the server has had many turns of its
  // event loop to read the other requests, which are now queued behind the running one.
  await barrier;
  const inFlight = inputs.length - settled;
  assert.ok(inFlight > 1, `requests were still in flight at SIGTERM (${inFlight})`);
  cli.child.kill('SIGTERM');
  const results = await Promise.allSettled(requests);
  const failures: string[] = [];
  results.forEach((r, i) => {
    if (r.status === 'rejected') failures.push(`request ${i}: ${(r.reason as Error).message}`);
    else if (r.value.status !== 200) failures.push(`request ${i}: ${r.value.status} ${r.value.jsonText}`);
    else {
      const y = outputValues(r.value.outputs.get('y')!);
      if (JSON.stringify(y) !== JSON.stringify(inputs[i])) failures.push(`request ${i}: y = ${JSON.stringify(y)}`);
    }
  });
  const exitCode = await exitAfterResponses(cli.exited);
  assert.deepEqual(failures, [], `${inFlight} in flight at SIGTERM; ${failures.length} of ${inputs.length} not answered with 200`);
  assert.equal(exitCode, 0, `exit after SIGTERM: ${exitCode}\n${cli.output().slice(-1500)}`);
  await assert.rejects(httpRequest(`${cli.url}/v2/health/live`, 'GET'), 'the server no longer listens');
});

test('lifecycle: SIGTERM during one keep-alive request delivers its 200 and exits 0', { timeout: 60_000 }, async (t) => {
  const repo = await tempRepo(t, {
    slow: { config: { name: 'slow', max_batch_size: 0, onnx: { intra_op_threads: 1 } }, versions: { 1: buildSlowIdentityModel(2048) } },
  });
  const cli = await startCli(t, repo);
  // A keep-alive client (fetch), as tritonclient and most HTTP clients are. Wait for the connection
  // to be in use: a first request completes, the second one is running when SIGTERM arrives.
  assert.equal((await infer(cli.url, 'slow', x4([0, 0, 0, 0]))).status, 200);
  const running = infer(cli.url, 'slow', x4([1, 2, 3, 4]));
  await new Promise((resolve) => setTimeout(resolve, 50));
  cli.child.kill('SIGTERM');
  const res = await running;
  assert.equal(res.status, 200, res.jsonText);
  assert.deepEqual(outputValues(res.outputs.get('y')!), [1, 2, 3, 4]);
  const exitCode = await exitAfterResponses(cli.exited);
  assert.equal(exitCode, 0, `exit after SIGTERM with an idle keep-alive connection left open: ${exitCode}`);
});

test('lifecycle: serve on a port already taken exits 1 naming the port, instead of hanging on the loaded models\' threads', { timeout: 60_000 }, async (t) => {
  const repo = await tempRepo(t, {
    // A worker instance: its thread alone would keep the process alive.
    slow: { config: { name: 'slow', max_batch_size: 0, instance_kind: 'worker', onnx: { intra_op_threads: 1 } }, versions: { 1: buildSlowIdentityModel(64) } },
  });
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => taken.close(() => resolve())));
  const port = (taken.address() as AddressInfo).port;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--repository', repo, '--host', '127.0.0.1', '--port', String(port), '--data-dir', join(repo, '.data')], {
    cwd: join(import.meta.dirname, '../..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([exited, new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still running after 30 s'), 30_000)))]);
  clearTimeout(timer);
  assert.ok(output.includes('model slow version 1: READY'), `the model loaded first:\n${output.slice(-1500)}`);
  assert.equal(outcome, 1, `exit status\n${output.slice(-1500)}`);
  assert.match(output, new RegExp(`EADDRINUSE.*${port}`));
});

test('lifecycle: liveness answers while a long inference is running', async (t) => {
  const repo = await tempRepo(t, {
    slow: { config: { name: 'slow', max_batch_size: 0, onnx: { intra_op_threads: 1 } }, versions: { 1: buildSlowIdentityModel(2048) } },
  });
  const { url } = await startServer(t, repo);
  const order: string[] = [];
  const inference = infer(url, 'slow', x4([1, 2, 3, 4])).then((res) => {
    order.push('inference');
    return res;
  });
  // Give the request time to reach the model (it then runs for a while), then probe liveness.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const live = httpRequest(`${url}/v2/health/live`, 'GET').then((res) => {
    order.push('live');
    return res;
  });
  const [res, probe] = await Promise.all([inference, live]);
  assert.equal(res.status, 200, res.jsonText);
  assert.equal(probe.status, 200);
  assert.deepEqual(order, ['live', 'inference'], 'the liveness probe is not stuck behind the inference');
});
