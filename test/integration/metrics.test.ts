import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startApp } from '../../src/app.js';

test('metrics: /metrics reports inferences, batches and outcomes per model version', async (t) => {
  const app = await startApp({ repository: join(import.meta.dirname, '../../examples/models'), host: '127.0.0.1', port: 0, bodyLimitBytes: 1 << 20, logger: false });
  t.after(() => app.close());
  const body = JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 32], data: new Array(64).fill(0.5) }] });
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${app.url}/v2/models/mlp-classifier/infer`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 200);
  }
  const bad = await fetch(`${app.url}/v2/models/mlp-classifier/infer`, { method: 'POST', body: '{', headers: { 'content-type': 'application/json' } });
  assert.equal(bad.status, 400);
  const res = await fetch(`${app.url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
  const text = await res.text();
  assert.match(text, /modelplane_inferences_total\{model="mlp-classifier",version="1"\} 6/);
  assert.match(text, /modelplane_inference_requests_total\{model="mlp-classifier",version="1",outcome="success"\} 3/);
  assert.match(text, /modelplane_model_ready\{model="ocr-recognition",version="1",state="READY"\} 1/);
  assert.match(text, /modelplane_queue_depth\{model="mlp-classifier",version="1"\} 0/);
});
