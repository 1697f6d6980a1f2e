import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { expandCpuList } from '../../src/runtime/cpu-affinity.js';
import { nativeAddon } from '../../src/runtime/native-addon.js';
import { buildAddConstantModel } from '../../scripts/lib/test-models.js';
import { startServer } from '../helpers/start-server.js';
import { tempRepo } from '../helpers/temp-repo.js';
import { httpRequest, infer, outputValues } from '../helpers/v2-client.js';

/** Thread id -> the CPUs the kernel lets it run on, for every thread of this process. */
function threadCpus(): Map<string, string> {
  const out = new Map<string, string>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const status = readFileSync(`/proc/self/task/${tid}/status`, 'utf8');
      out.set(tid, /^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1] ?? '');
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

const processCpus = process.platform === 'linux' ? threadCpus().get(String(process.pid))! : '';
const usable = expandCpuList(processCpus);
const hasTaskset = spawnSync('taskset', ['--version']).status === 0;
// The native addon binds threads itself; without it, taskset does.
const canBind = !(nativeAddon() instanceof Error) || hasTaskset;
const skip = process.platform !== 'linux' ? 'needs Linux' : usable.length < 2 ? 'needs 2 CPUs' : !canBind ? 'needs the native addon (npm install) or taskset (util-linux)' : false;

test('instance_cpus: each instance thread binds itself (and ORT\'s threads) to the CPUs given; bad lists name the field', { skip }, async (t) => {
  const before = threadCpus();
  const last = usable.at(-1)!;
  const repo = await tempRepo(t, {
    pinned: { config: { name: 'pinned', instance_count: 2, instance_kind: 'worker', instance_cpus: String(last), onnx: { intra_op_threads: 2 } }, versions: { 1: buildAddConstantModel(1) } },
    // ONNX Runtime's default thread count: left at 0, ORT would size its pool by the machine and pin the threads itself.
    defaults: { config: { name: 'defaults', instance_kind: 'worker', instance_cpus: String(last) }, versions: { 1: buildAddConstantModel(6) } },
    reversed: { config: { name: 'reversed', instance_cpus: '1-0' }, versions: { 1: buildAddConstantModel(2) } },
    words: { config: { name: 'words', instance_cpus: 'the fast ones' }, versions: { 1: buildAddConstantModel(3) } },
    inline: { config: { name: 'inline', instance_kind: 'inline', instance_cpus: '0' }, versions: { 1: buildAddConstantModel(4) } },
    absent: { config: { name: 'absent', instance_cpus: '4095' }, versions: { 1: buildAddConstantModel(5) } },
    huge: { config: { name: 'huge', instance_cpus: '0-99999' }, versions: { 1: buildAddConstantModel(7) } },
  });
  const { url } = await startServer(t, repo);

  for (const [model, added] of [['pinned', 1], ['defaults', 6]] as const) {
    const res = await infer(url, model, { inputs: [{ name: 'x', datatype: 'FP32', shape: [4], data: [1, 2, 3, 4] }] });
    assert.equal(res.status, 200, res.jsonText);
    assert.deepEqual(outputValues(res.outputs.get('y')!), [1, 2, 3, 4].map((v) => v + added));
  }

  const after = threadCpus();
  const bound = [...after].filter(([tid, cpus]) => !before.has(tid) && cpus === String(last));
  // 'pinned': two instance threads, and each one's second ORT intra-op thread (a pool of n runs on n - 1
  // threads and the caller); 'defaults': its own thread. (Plus, depending on which thread starts ORT
  // first, the one thread ORT starts per process; the sizing of 'defaults' is tested in onnx-options.test.ts.)
  assert.ok(bound.length >= 5, `threads bound to CPU ${last}: ${JSON.stringify([...after])}`);
  const pinnedElsewhere = [...after].filter(([tid, cpus]) => !before.has(tid) && cpus !== processCpus && cpus !== String(last));
  assert.deepEqual(pinnedElsewhere, [], 'no thread of a bound instance was pinned anywhere else (ORT pins its own pool when left to size it)');
  assert.equal(after.get(String(process.pid)), processCpus, 'the server\'s own thread is left where it was');

  const index = await httpRequest(`${url}/v2/repository/index`, 'POST', '{}', { 'content-type': 'application/json' });
  const reasons = new Map((JSON.parse(index.body.toString()) as Array<{ name: string; state: string; reason: string }>).map((e) => [e.name, e]));
  assert.match(reasons.get('reversed')!.reason, /instance_cpus: each range must run from the lower CPU to the higher/);
  assert.match(reasons.get('words')!.reason, /instance_cpus: a CPU list such as/);
  assert.match(reasons.get('inline')!.reason, /instance_cpus: binds instance threads; with instance_kind 'inline'/);
  assert.equal(reasons.get('absent')!.state, 'UNAVAILABLE');
  assert.match(reasons.get('absent')!.reason, /instance_cpus: '4095' could not be applied/);
  assert.match(reasons.get('huge')!.reason, /instance_cpus: CPUs are numbered 0 to 8191/);
});
