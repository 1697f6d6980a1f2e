import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelConfigSchema } from '../../src/config/model-config.js';
import { describeIssues } from '../../src/config/zod-issues.js';
import { OnnxBackend } from '../../src/runtime/onnx/onnx-backend.js';
import { hugePagesUnavailable } from '../../src/runtime/huge-pages.js';
import type { ModelInstance } from '../../src/runtime/backend.js';
import { buildMlpModel } from '../../scripts/lib/mlp-model.js';

const unavailable = process.platform === 'linux' ? hugePagesUnavailable() : 'needs Linux';

/** The whole process's anonymous memory on huge pages, in bytes. */
function processHugeBytes(): number {
  return Number(/^AnonHugePages:\s+(\d+) kB/m.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'))?.[1] ?? 0) * 1024;
}

test('onnx.huge_pages: the weights a load allocates go on 2 MiB pages, in an instance thread and inline; answers are unchanged', { skip: unavailable ?? false }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mp-huge-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // 512 -> 2048 -> 2048 -> 16: 21 MB of weights, the middle matrix alone 16 MB.
  const file = join(dir, 'model.onnx');
  writeFileSync(file, buildMlpModel({ features: 512, hidden: [2048, 2048], classes: 16, seed: 3 }));
  const backend = new OnnxBackend();
  const config = (kind: 'worker' | 'inline', hugePages: boolean) =>
    ModelConfigSchema.parse({ name: 'mlp', max_batch_size: 4, instance_kind: kind, onnx: { huge_pages: hugePages } });
  const instances: ModelInstance[] = [];
  t.after(() => Promise.all(instances.map((i) => i.release())));

  const off = await backend.createInstance(file, config('worker', false));
  instances.push(off);
  assert.equal(off.hugePageBytes, undefined, 'huge_pages: false advises nothing');

  const before = processHugeBytes();
  const worker = await backend.createInstance(file, config('worker', true));
  instances.push(worker);
  const inline = await backend.createInstance(file, config('inline', true));
  instances.push(inline);
  for (const [kind, instance] of [['worker', worker], ['inline', inline]] as const) {
    assert.ok((instance.hugePageBytes ?? 0) >= 16 * 2 ** 20, `${kind}: ${instance.hugePageBytes} bytes on huge pages, expected at least the 16 MB matrix`);
  }
  assert.ok(processHugeBytes() - before >= 32 * 2 ** 20, `the kernel reports the process's huge pages grew by ${processHugeBytes() - before} bytes`);

  const input = new Float32Array(2 * 512).map((_, i) => Math.sin(i));
  const inputs = new Map([['input', { name: 'input', datatype: 'FP32' as const, shape: [2, 512], data: input }]]);
  const expected = (await off.run(inputs, ['logits'])).get('logits')!.data;
  for (const instance of [worker, inline]) {
    assert.deepEqual((await instance.run(inputs, ['logits'])).get('logits')!.data, expected);
  }
});

test('onnx.huge_pages: only true, false or "auto"; the error names the field', () => {
  assert.equal(ModelConfigSchema.parse({ name: 'm' }).onnx.huge_pages, 'auto');
  const bad = ModelConfigSchema.safeParse({ name: 'm', onnx: { huge_pages: 'yes' } });
  assert.equal(bad.success, false);
  assert.match(describeIssues(bad.error!), /onnx\.huge_pages/);
});
