import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { nativeAddon } from '../../../src/runtime/native-addon.js';

const skip = process.platform !== 'linux' ? 'needs Linux' : nativeAddon() instanceof Error ? 'the native addon is not built' : cpus().length < 2 ? 'needs 2 CPUs' : false;

test('instance_cpus binds through the native addon: no taskset needed; a CPU the kernel refuses is named with its errno', { skip }, (t) => {
  // A PATH with node alone: were the binding to shell out to taskset, it would fail to start it.
  const bin = mkdtempSync(join(tmpdir(), 'mp-path-'));
  t.after(() => rmSync(bin, { recursive: true, force: true }));
  symlinkSync(process.execPath, join(bin, 'node'));
  const script = `
    const { bindCurrentThread, currentThreadCpus } = await import('./src/runtime/cpu-affinity.ts');
    bindCurrentThread('1');
    let refused = '';
    try { bindCurrentThread('4095'); } catch (err) { refused = err.message; }
    console.log(JSON.stringify({ bound: currentThreadCpus(), refused }));`;
  const child = spawnSync(join(bin, 'node'), ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, PATH: bin }, encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  const result = JSON.parse(child.stdout.trim().split('\n').pop()!) as { bound: string; refused: string };
  assert.equal(result.bound, '1');
  assert.match(result.refused, /instance_cpus: '4095' could not be applied: EINVAL \(errno 22\)/);
});
