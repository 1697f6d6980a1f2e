import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp } from '../../src/app.js';
import { startTracing, tracingConfigured } from '../../src/telemetry/tracing.js';
import { buildMlpModel } from '../../scripts/lib/mlp-model.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  links?: Array<{ traceId: string; spanId: string }>;
  attributes?: Array<{ key: string; value: Record<string, unknown> }>;
}

/** An OTLP/HTTP JSON receiver: what a collector would get. */
async function otlpReceiver(t: { after(fn: () => unknown): void }): Promise<{ url: string; spans: OtlpSpan[]; paths: string[] }> {
  const spans: OtlpSpan[] = [];
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      paths.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }> };
      for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, spans, paths };
}

const attr = (s: OtlpSpan, key: string) => {
  const v = s.attributes?.find((a) => a.key === key)?.value;
  return v ? Object.values(v)[0] : undefined;
};

test('tracing: a batched request yields HTTP -> queue/compute spans under the caller\'s traceparent, and a batch span linked to every request, exported over OTLP', async (t) => {
  const receiver = await otlpReceiver(t);
  const root = mkdtempSync(join(tmpdir(), 'mp-trace-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'mlp', '1'), { recursive: true });
  writeFileSync(join(root, 'mlp', '1', 'model.onnx'), buildMlpModel({ features: 4, hidden: [8], classes: 2, seed: 3 }));
  // delay_until_queued: the four requests run as one batch, whatever the machine's speed.
  writeFileSync(join(root, 'mlp', 'config.json'), JSON.stringify({ name: 'mlp', max_batch_size: 8, dynamic_batching: { delay_until_queued: 4 } }));
  const app = await startApp({ repository: root, host: '127.0.0.1', port: 0, bodyLimitBytes: 1 << 20, logger: false, tracing: { otlpEndpoint: receiver.url } });

  const callers = Array.from({ length: 4 }, () => ({ traceId: randomBytes(16).toString('hex'), parentId: randomBytes(8).toString('hex') }));
  const statuses = await Promise.all(callers.map(async (c) => {
    const res = await fetch(`${app.url}/v2/models/mlp/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${c.traceId}-${c.parentId}-01` },
      body: JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] }),
    });
    await res.arrayBuffer();
    return res.status;
  }));
  assert.deepEqual(statuses, [200, 200, 200, 200]);
  await app.close(); // flushes the exporter

  assert.ok(receiver.paths.every((p) => p.startsWith('POST /v1/traces application/json')), receiver.paths.join('; '));
  const spans = receiver.spans;
  const batches = spans.filter((s) => s.name === 'modelplane.batch');
  assert.equal(batches.length, 1, 'one batch span');
  const batch = batches[0]!;
  assert.equal(attr(batch, 'modelplane.batch_size'), 4);
  assert.equal(attr(batch, 'modelplane.model'), 'mlp');

  const serverSpanIds = new Set<string>();
  for (const c of callers) {
    const mine = spans.filter((s) => s.traceId === c.traceId);
    const http = mine.find((s) => s.parentSpanId === c.parentId);
    assert.ok(http, `the HTTP span continues the caller's trace ${c.traceId}`);
    assert.equal(http.name, 'POST /v2/models/:model/infer');
    assert.equal(http.kind, 2, 'SERVER');
    assert.equal(attr(http, 'http.response.status_code'), 200);
    serverSpanIds.add(http.spanId);
    const children = mine.filter((s) => s.parentSpanId === http.spanId).map((s) => s.name).sort();
    assert.deepEqual(children, ['modelplane.compute', 'modelplane.queue']);
    const compute = mine.find((s) => s.name === 'modelplane.compute')!;
    assert.deepEqual(compute.links?.map((l) => l.spanId), [batch.spanId], 'compute links to its batch');
  }
  assert.deepEqual(new Set(batch.links?.map((l) => l.spanId)), serverSpanIds, 'the batch links to every request in it');
});

test('tracing: nothing is set up without an endpoint', () => {
  assert.equal(tracingConfigured(undefined, {}), false);
  assert.equal(tracingConfigured(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), true);
  const saved = { ...process.env };
  delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  delete process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  try {
    assert.equal(startTracing({}), undefined);
  } finally {
    Object.assign(process.env, saved);
  }
});
