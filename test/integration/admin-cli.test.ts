import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildAddConstantModel } from '../../scripts/lib/test-models.js';
import { startServer } from '../helpers/start-server.js';
import { tempRepo } from '../helpers/temp-repo.js';
import { infer } from '../helpers/v2-client.js';
import { PIPELINE_MAIN } from '../helpers/worker-process.js';

const run = promisify(execFile);
const TOKEN = 'cli-token-0123456789abcdef';

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', PIPELINE_MAIN, ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('cli: models list|load|unload and rollout start|status|abort against a running server', async (t) => {
  const repo = await tempRepo(t, {
    m: { config: { name: 'm', version_policy: { all: {} } }, versions: { 1: buildAddConstantModel(1), 2: buildAddConstantModel(2) } },
  });
  const { url } = await startServer(t, repo, { app: { modelControlMode: 'explicit', adminToken: TOKEN } });
  const conn = ['--url', url, '--token', TOKEN];

  const list = await cli(['models', 'list', ...conn]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^MODEL\s+VERSION\s+STATE\s+REASON\nm\s+2\s+READY\nm\s+1\s+READY\n$/);

  const denied = await cli(['models', 'list', '--url', url, '--token', 'wrong-token-0123456789']);
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /MP_UNAUTHORIZED: POST \/v2\/repository\/index: 401/);

  const unload = await cli(['models', 'unload', 'm', ...conn]);
  assert.equal(unload.code, 0, unload.stderr);
  assert.match(unload.stdout, /unloaded m\n/);
  assert.equal((await infer(url, 'm', { inputs: [{ name: 'x', datatype: 'FP32', shape: [4], data: [0, 0, 0, 0] }] })).status, 503);

  const override = join(repo, 'override.json');
  await writeFile(override, JSON.stringify({ name: 'm', version_policy: { specific: { versions: [1, 2] } } }));
  const load = await cli(['models', 'load', 'm', '--config', override, '--json'], { MODELPLANE_ADMIN_TOKEN: TOKEN, MODELPLANE_URL: url });
  assert.equal(load.code, 0, load.stderr);
  const loaded = JSON.parse(load.stdout) as { versions: { version: string; state: string }[] };
  assert.deepEqual(loaded.versions.map((v) => [v.version, v.state]), [['2', 'READY'], ['1', 'READY']]);

  const start = await cli(['rollout', 'start', 'm', '--candidate', '2', '--incumbent', '1', '--steps', '20,100', '--step-seconds', '3600', '--max-error-rate', '0.5', ...conn]);
  assert.equal(start.code, 0, start.stderr);
  assert.match(start.stdout, /rollout 1: running, candidate 2 at 20% against 1 \(steps 20 -> 100\)/);

  const status = await cli(['rollout', 'status', 'm', ...conn]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /^current: rollout 1: running/);
  assert.match(status.stdout, /started\s+20%/);

  const conflict = await cli(['rollout', 'start', 'm', '--candidate', '2', ...conn]);
  assert.equal(conflict.code, 1);
  assert.match(conflict.stderr, /MP_CONFLICT/);

  const abort = await cli(['rollout', 'abort', 'm', ...conn]);
  assert.equal(abort.code, 0, abort.stderr);
  assert.match(abort.stdout, /rollout 1: aborted, candidate 2 at 0%/);
  const after = await cli(['rollout', 'status', 'm', '--json', ...conn]);
  const json = JSON.parse(after.stdout) as { current: unknown; history: { state: string; events: { kind: string }[] }[] };
  assert.equal(json.current, null);
  assert.deepEqual(json.history[0]!.events.map((e) => e.kind), ['started', 'aborted']);

  const bad = await cli(['rollout', 'start', 'm', '--candidate', '2', '--steps', '50,10', ...conn]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /MP_INVALID_ARG: .*steps: must increase/);
});
