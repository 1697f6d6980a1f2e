import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { PIPELINE_MAIN } from '../helpers/worker-process.js';

const run = promisify(execFile);
const EXAMPLE = new URL('../../examples/pipelines/', import.meta.url).pathname;

test('pipeline example: classifies every text file with the ONNX MLP and stores one summary per file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mp-example-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files = readdirSync(join(EXAMPLE, 'texts')).map((f) => join(EXAMPLE, 'texts', f));
  const { stdout } = await run(process.execPath, ['--import', 'tsx', PIPELINE_MAIN, 'pipeline', 'run', 'classify-texts',
    '--pipelines', join(EXAMPLE, 'text-pipeline.ts'), '--repository', join(EXAMPLE, '../models'), '--data-dir', join(dir, 'q'), '--with-worker', '2', '--input', ...files],
  { env: { ...process.env, MP_EXAMPLE_OUT: dir } });
  const runs = stdout.trim().split('\n').map((l) => JSON.parse(l) as { state: string; error: string | null });
  assert.deepEqual(runs.map((r) => r.state), files.map(() => 'completed'), runs.map((r) => r.error).join('; '));
  const db = new Database(join(dir, 'results.db'), { readonly: true });
  t.after(() => db.close());
  const rows = db.prepare('SELECT path, summary FROM results ORDER BY path').all() as { path: string; summary: string }[];
  assert.deepEqual(rows.map((r) => r.path), [...files].sort());
  for (const r of rows) {
    const s = JSON.parse(r.summary) as { paragraphs: number; labels: number[]; meanProbabilities: number[] };
    assert.equal(s.labels.length, s.paragraphs);
    assert.ok(s.labels.every((l) => Number.isInteger(l) && l >= 0 && l < 4));
    assert.ok(Math.abs(s.meanProbabilities.reduce((a, b) => a + b, 0) - 1) < 1e-3, 'probabilities are a softmax');
  }
});
