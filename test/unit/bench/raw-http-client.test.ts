import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RawHttpConnection, postRequest } from '../../../bench/lib/raw-http-client.js';

async function listen(t: { after(fn: () => unknown): void }, handler: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<number> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => handler(req, body, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return (server.address() as AddressInfo).port;
}

test('bench raw-http-client: keep-alive POSTs get status and body, also when the answer comes in pieces', async (t) => {
  const port = await listen(t, (req, body, res) => {
    const answer = Buffer.from(JSON.stringify({ path: req.url, type: req.headers['content-type'], body }));
    if (body.includes('slow')) {
      res.writeHead(201, { 'content-length': answer.length });
      res.write(answer.subarray(0, 5));
      setTimeout(() => res.end(answer.subarray(5)), 20);
    } else {
      res.writeHead(200, { 'content-length': answer.length }).end(answer);
    }
  });
  const conn = await RawHttpConnection.open('127.0.0.1', port);
  t.after(() => conn.close());
  const first = await conn.send(postRequest(`127.0.0.1:${port}`, '/v1/embeddings', '{"input":"é"}'));
  assert.equal(first.status, 200);
  assert.deepEqual(JSON.parse(first.body.toString()), { path: '/v1/embeddings', type: 'application/json', body: '{"input":"é"}' });
  const second = await conn.send(postRequest(`127.0.0.1:${port}`, '/x', '"slow"'));
  assert.equal(second.status, 201);
  assert.equal((JSON.parse(second.body.toString()) as { body: string }).body, '"slow"');
});

test('bench raw-http-client: an answer without Content-Length or a closed socket fails the request', async (t) => {
  const port = await listen(t, (_req, body, res) => {
    if (body === '"close"') res.socket!.destroy();
    else {
      res.write('chunked, ');
      res.end('no length');
    }
  });
  const chunked = await RawHttpConnection.open('127.0.0.1', port);
  t.after(() => chunked.close());
  await assert.rejects(chunked.send(postRequest('h', '/', '"x"')), /without Content-Length/);
  await assert.rejects(chunked.send(postRequest('h', '/', '"x"')), /without Content-Length/, 'a failed connection stays failed');
  const closed = await RawHttpConnection.open('127.0.0.1', port);
  t.after(() => closed.close());
  await assert.rejects(closed.send(postRequest('h', '/', '"close"')), /closed/);
});
