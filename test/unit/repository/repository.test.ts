import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanRepository } from '../../../src/repository/model-repository.js';
import { selectVersions } from '../../../src/repository/version-policy.js';
import { completeConfig } from '../../../src/repository/complete-config.js';
import { ModelConfigSchema } from '../../../src/config/model-config.js';

function repo(t: { after(fn: () => void): void }, files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'mp-repo-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

test('repository: version policy selects latest n, all, or a specific list', () => {
  assert.deepEqual(selectVersions({ latest: { num_versions: 2 } }, [1, 3, 2, 10]), [10, 3]);
  assert.deepEqual(selectVersions({ all: {} }, [1, 3, 2]), [3, 2, 1]);
  assert.deepEqual(selectVersions({ specific: { versions: [1, 7] } }, [1, 3]), [1]);
});

test('repository: an invalid config names the file and the field; other models still scan', async (t) => {
  const root = repo(t, {
    'good/config.json': JSON.stringify({ name: 'good', max_batch_size: 4 }),
    'good/1/model.onnx': 'x',
    'bad/config.json': JSON.stringify({ name: 'bad', max_batch_size: -1, instance_count: 'two' }),
    'bad/1/model.onnx': 'x',
    'typo/config.yaml': 'name: typo\nmax_batchsize: 4\n',
    'typo/1/model.onnx': 'x',
    'broken/config.json': '{ not json',
    'broken/2/model.onnx': 'x',
  });
  const scan = await scanRepository(root);
  const byName = new Map(scan.models.map((m) => [m.name, m]));
  assert.equal(byName.get('good')!.error, undefined);
  assert.deepEqual(byName.get('good')!.versions, [1]);
  const bad = byName.get('bad')!.error!;
  assert.match(bad, /bad\/config\.json/);
  assert.match(bad, /max_batch_size/);
  assert.match(bad, /instance_count/);
  assert.match(byName.get('typo')!.error!, /typo\/config\.yaml.*max_batchsize/);
  assert.match(byName.get('broken')!.error!, /broken\/config\.json: not valid JSON/);
});

test('repository: names that could leave the repository are refused; version dirs must be numbers', async (t) => {
  const root = repo(t, {
    'ok/1/model.onnx': 'x',
    'ok/01/model.onnx': 'x',
    'ok/latest/model.onnx': 'x',
    'we ird/1/model.onnx': 'x',
    '.hidden/1/model.onnx': 'x',
  });
  const scan = await scanRepository(root);
  assert.deepEqual(scan.models.map((m) => m.name), ['ok']);
  assert.deepEqual(scan.skipped, ['we ird']);
  assert.deepEqual(scan.models[0]!.versions, [1]);
  assert.equal(ModelConfigSchema.safeParse({ name: '../etc' }).success, false);
  assert.equal(ModelConfigSchema.safeParse({ name: 'a/b' }).success, false);
  assert.equal(ModelConfigSchema.safeParse({ name: 'x', default_model_filename: '../model.onnx' }).success, false);
});

test('repository: a config name that differs from its directory is an error', async (t) => {
  const root = repo(t, { 'alpha/config.json': JSON.stringify({ name: 'beta' }), 'alpha/1/model.onnx': 'x' });
  const scan = await scanRepository(root);
  assert.match(scan.models[0]!.error!, /name: 'beta' must equal the directory name 'alpha'/);
});

test('repository: auto-complete fills inputs, outputs and a batch size from the model signature', () => {
  const signature = {
    inputs: [{ name: 'ids', datatype: 'INT64' as const, shape: [-1, -1] }],
    outputs: [{ name: 'emb', datatype: 'FP32' as const, shape: [-1, 384] }],
  };
  const auto = completeConfig(ModelConfigSchema.parse({ name: 'm' }), signature, 'm', false);
  assert.equal(auto.max_batch_size, 32);
  assert.deepEqual(auto.inputs, [{ name: 'ids', datatype: 'INT64', dims: [-1] }]);
  assert.deepEqual(auto.outputs, [{ name: 'emb', datatype: 'FP32', dims: [384] }]);
  const unbatched = completeConfig(ModelConfigSchema.parse({ name: 'm', max_batch_size: 0 }), signature, 'm', true);
  assert.deepEqual(unbatched.inputs[0]!.dims, [-1, -1]);
  assert.throws(
    () => completeConfig(ModelConfigSchema.parse({ name: 'm', max_batch_size: 4, inputs: [{ name: 'ids', datatype: 'INT32', dims: [-1] }] }), signature, 'cfg.json', true),
    /cfg\.json: inputs\.0\.datatype: 'ids' is INT64 in the model, not INT32/,
  );
  assert.throws(
    () => completeConfig(ModelConfigSchema.parse({ name: 'm', max_batch_size: 4, outputs: [{ name: 'emb', datatype: 'FP32', dims: [512] }] }), signature, 'cfg.json', true),
    /outputs\.0\.dims\.0: 'emb' is 384 in the model, not 512/,
  );
  assert.throws(
    () => completeConfig(ModelConfigSchema.parse({ name: 'm', max_batch_size: 4 }), { inputs: [{ name: 'x', datatype: 'FP32', shape: [3, 4] }], outputs: [] }, 'cfg.json', true),
    /max_batch_size: 4 but 'x' has no variable batch dimension/,
  );
});
