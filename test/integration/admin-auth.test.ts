import { test } from 'node:test';
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { buildAddConstantModel } from '../../scripts/lib/test-models.js';
import { startCli, startServer } from '../helpers/start-server.js';
import { tempRepo } from '../helpers/temp-repo.js';
import { eventually } from '../helpers/eventually.js';
import { buildInferRequest, httpRequest } from '../helpers/v2-client.js';

const TOKEN = 'test-token-0123456789abcdef';
const body = buildInferRequest({ inputs: [{ name: 'x', datatype: 'FP32', shape: [4], data: [1, 2, 3, 4] }] });

async function repo(t: Parameters<typeof tempRepo>[0]): Promise<string> {
  return tempRepo(t, { m: { versions: { 1: buildAddConstantModel(1) } } });
}

test('admin auth: with a token, repository and admin endpoints need it; inference does not', async (t) => {
  const { url } = await startServer(t, await repo(t), { app: { adminToken: TOKEN, modelControlMode: 'explicit' } });
  const index = (headers: Record<string, string>) => httpRequest(`${url}/v2/repository/index`, 'POST', '{}', { 'content-type': 'application/json', ...headers });
  const none = await index({});
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), 'Bearer');
  assert.match(none.body.toString(), /Bearer/);
  assert.equal((await index({ authorization: 'Bearer wrong-token-0123456789' })).status, 401);
  assert.equal((await index({ authorization: `Basic ${TOKEN}` })).status, 401);
  assert.equal((await index({ authorization: `Bearer ${TOKEN}` })).status, 200);
  assert.equal((await httpRequest(`${url}/v2/admin/models/m/traffic`, 'GET')).status, 401);
  assert.equal((await httpRequest(`${url}/v2/admin/models/m/traffic`, 'GET', undefined, { authorization: `Bearer ${TOKEN}` })).status, 200);
  assert.equal((await httpRequest(`${url}/v2/repository/models/m/unload`, 'POST')).status, 401);
  assert.equal((await httpRequest(`${url}/v2/models/m/infer`, 'POST', body.body, body.headers)).status, 200, 'inference is open');
});

test('admin auth: --auth-inference protects model endpoints too, not health', async (t) => {
  const { url } = await startServer(t, await repo(t), { app: { adminToken: TOKEN, authInference: true } });
  assert.equal((await httpRequest(`${url}/v2/models/m/infer`, 'POST', body.body, body.headers)).status, 401);
  assert.equal((await httpRequest(`${url}/v2/models/m`, 'GET')).status, 401);
  assert.equal((await httpRequest(`${url}/v2/models/m/infer`, 'POST', body.body, { ...body.headers, authorization: `Bearer ${TOKEN}` })).status, 200);
  assert.equal((await httpRequest(`${url}/v2/health/ready`, 'GET')).status, 200);
  await assert.rejects(startServer(t, await repo(t), { app: { authInference: true } }), /--auth-inference needs --admin-token/);
});

test('admin auth: without a token, admin endpoints answer loopback clients only', async (t) => {
  const { url, app } = await startServer(t, await repo(t), { app: { host: '0.0.0.0' } });
  const port = new URL(url).port;
  assert.equal((await httpRequest(`http://127.0.0.1:${port}/v2/repository/index`, 'POST')).status, 200, 'loopback is served');
  // A client on another address (simulated at the socket level).
  const remote = await app.server.inject({ method: 'POST', url: '/v2/repository/index', remoteAddress: '10.1.2.3' });
  assert.equal(remote.statusCode, 403);
  assert.match(remote.body, /only on loopback/);
  const remoteInfer = await app.server.inject({ method: 'POST', url: '/v2/models/m/infer', remoteAddress: '10.1.2.3', payload: body.body, headers: body.headers });
  assert.equal(remoteInfer.statusCode, 200, 'inference stays open');
  // And over the network, when this machine has a non-loopback address.
  const address = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
  if (address) {
    const res = await httpRequest(`http://${address}:${port}/v2/admin/models/m/traffic`, 'GET');
    assert.equal(res.status, 403);
  } else {
    t.diagnostic('no non-loopback IPv4 address: network check skipped (the socket-level check above ran)');
  }
});

test('admin auth: the server says at startup which way the control surface is protected', async (t) => {
  const dir = await repo(t);
  const open = await startCli(t, dir);
  await eventually(async () => /answer only clients on loopback/.test(open.output()), 'loopback warning in the log');
  process.env.MODELPLANE_ADMIN_TOKEN = TOKEN;
  try {
    const locked = await startCli(t, dir);
    await eventually(async () => /require a bearer token/.test(locked.output()), 'token notice in the log');
    assert.equal((await httpRequest(`${locked.url}/v2/repository/index`, 'POST')).status, 401, 'the env token is in force');
  } finally {
    delete process.env.MODELPLANE_ADMIN_TOKEN;
  }
  const short = await startCli(t, dir, ['--admin-token', 'short']).catch((err: Error) => err);
  assert.ok(short instanceof Error && /--admin-token: must be at least 16 characters/.test(short.message), String(short));
});
