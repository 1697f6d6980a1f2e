import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { exited, PIPELINE_MAIN, spawnWorker } from '../helpers/worker-process.js';

const run = promisify(execFile);
const YAML = new URL('./fixtures/text-pipelines.yaml', import.meta.url).pathname;

function inputs(dir: string): string[] {
  return ['one two three', 'four five', 'six'].map((text, i) => {
    const f = join(dir, `doc-${i}.txt`);
    writeFileSync(f, text);
    return f;
  });
}

test('pipeline cli: "pipeline run --with-worker" processes every input file and reports progress', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mp-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files = inputs(dir);
  const args = ['--import', 'tsx', PIPELINE_MAIN, 'pipeline', 'run', 'wordcount', '--pipelines', YAML, '--data-dir', join(dir, 'q'),
    '--with-worker', '2', '--key-prefix', 'batch-1', '--input', ...files];
  const { stdout, stderr } = await run(process.execPath, args);
  const results = stdout.trim().split('\n').map((l) => JSON.parse(l) as { state: string; result: { count: number } });
  assert.deepEqual(results.map((r) => [r.state, r.result.count]), [['completed', 3], ['completed', 2], ['completed', 1]]);
  assert.match(stderr, /submitted 3 runs/);
  assert.match(stderr, /wordcount \[#+\] 3\/3 completed 3 dead 0/);
  // The same key prefix resubmits nothing: the same runs come back.
  const again = await run(process.execPath, args);
  assert.equal(again.stdout, stdout);
});

test('pipeline cli: a separate "worker" process serves runs that "pipeline run" submits', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mp-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files = inputs(dir);
  const worker = spawnWorker(['--pipelines', YAML, '--data-dir', join(dir, 'q'), '--concurrency', '2']);
  t.after(async () => {
    worker.kill('SIGKILL');
    await exited(worker);
  });
  const { stdout } = await run(process.execPath, ['--import', 'tsx', PIPELINE_MAIN, 'pipeline', 'run', 'wordcount', '--pipelines', YAML,
    '--data-dir', join(dir, 'q'), '--input', ...files]);
  assert.equal(stdout.trim().split('\n').filter((l) => (JSON.parse(l) as { state: string }).state === 'completed').length, 3);
  worker.kill('SIGTERM');
  assert.equal(await exited(worker), 0, 'SIGTERM drains and exits cleanly');
});

test('pipeline cli: an invalid pipeline file fails with a message naming the field', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mp-cli-'));
  try {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ pipelines: [{ name: 'x', steps: [{ name: 's', function: 'f', concurrency: 0 }] }] }));
    await assert.rejects(
      run(process.execPath, ['--import', 'tsx', PIPELINE_MAIN, 'worker', '--pipelines', bad, '--data-dir', join(dir, 'q')]),
      (err: { code: number; stderr: string }) => err.code === 1 && /MP_CONFIG_INVALID: .*pipelines\.0\.steps\.0\.concurrency/.test(err.stderr),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
