import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../../helpers/search-server.js';
import { startCli } from '../../helpers/start-server.js';

const root = join(import.meta.dirname, '..', '..', '..');

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('collections cli: create, upsert from JSON lines, search with a filter, snapshot, list, delete against `modelplane serve`', async (t) => {
  const dataDir = await tempDir(t);
  const server = await startCli(t, await tempDir(t, 'mp-repo-'), ['--data-dir', dataDir]);
  const url = ['--url', server.url];
  const created = await cli(['collections', 'create', 'notes', '--dimension', '3', ...url]);
  assert.equal(created.code, 0, created.stderr);
  assert.equal(JSON.parse(created.stdout).dimension, 3);
  const file = join(dataDir, 'docs.jsonl');
  writeFileSync(file, [
    { id: 'a', vector: [1, 0, 0], text: 'red apples', payload: { kind: 'fruit', year: 2021 } },
    { id: 'b', vector: [0.9, 0.1, 0], text: 'green apples', payload: { kind: 'fruit', year: 2024 } },
    { id: 'c', vector: [0, 0, 1], text: 'blue car', payload: { kind: 'vehicle', year: 2024 } },
  ].map((d) => JSON.stringify(d)).join('\n'));
  const up = await cli(['collections', 'upsert', 'notes', '--file', file, ...url]);
  assert.equal(up.code, 0, up.stderr);
  assert.deepEqual(JSON.parse(up.stdout), { upserted: 3 });
  const found = await cli(['collections', 'search', 'notes', '--vector', '[1,0,0]', '--k', '2', '--filter', '{"year":{"gte":2022}}', ...url]);
  assert.equal(found.code, 0, found.stderr);
  assert.deepEqual(JSON.parse(found.stdout).hits.map((h: { id: string }) => h.id), ['b', 'c']);
  const text = await cli(['collections', 'search', 'notes', '--text', 'apples', '--mode', 'text', '--filter', '{"kind":"fruit"}', ...url]);
  assert.deepEqual(new Set(JSON.parse(text.stdout).hits.map((h: { id: string }) => h.id)), new Set(['a', 'b']));
  const snap = await cli(['collections', 'snapshot', 'notes', ...url]);
  assert.equal(snap.code, 0, snap.stderr);
  const list = await cli(['collections', 'list', ...url]);
  assert.equal(JSON.parse(list.stdout).collections[0].documents, 3);
  const bad = await cli(['collections', 'search', 'notes', '--vector', '[1,0]', ...url]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /dimension 2, expected 3/);
  assert.equal((await cli(['collections', 'delete', 'notes', ...url])).code, 0);
  assert.equal(JSON.parse((await cli(['collections', 'list', ...url])).stdout).collections.length, 0);
});
