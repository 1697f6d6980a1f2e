import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
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

const linuxWithTwoCpus = process.platform === 'linux' && os.availableParallelism() >= 2;

test('instance_cpus: each instance thread binds itself (and ORT\'s threads) to the CPUs given; bad lists name the field', { skip: !linuxWithTwoCpus && 'needs Linux and 2 CPUs' }, async (t) => {
  const before = threadCpus();
  const processCpus = before.get(String(process.pid))!;
  const last = os.availableParallelism() - 1;
  const repo = await tempRepo(t, {
    pinned: { config: { name: 'pinned', instance_count: 2, instance_kind: 'worker', instance_cpus: String(last), onnx: { intra_op_threads: 2 } }, versions: { 1: buildAddConstantModel(1) } },
    reversed: { config: { name: 'reversed', instance_cpus: '1-0' }, versions: { 1: buildAddConstantModel(2) } },
    words: { config: { name: 'words', instance_cpus: 'the fast ones' }, versions: { 1: buildAddConstantModel(3) } },
    inline: { config: { name: 'inline', instance_kind: 'inline', instance_cpus: '0' }, versions: { 1: buildAddConstantModel(4) } },
    absent: { config: { name: 'absent', instance_cpus: '4095' }, versions: { 1: buildAddConstantModel(5) } },
  });
  const { url } = await startServer(t, repo);

  const res = await infer(url, 'pinned', { inputs: [{ name: 'x', datatype: 'FP32', shape: [4], data: [1, 2, 3, 4] }] });
  assert.equal(res.status, 200, res.jsonText);
  assert.deepEqual(outputValues(res.outputs.get('y')!), [2, 3, 4, 5]);

  const after = threadCpus();
  const bound = [...after].filter(([tid, cpus]) => !before.has(tid) && cpus === String(last));
  // Two instance threads, and each one's second ORT intra-op thread, started after the bind.
  assert.ok(bound.length >= 4, `threads bound to CPU ${last}: ${bound.length} of ${JSON.stringify([...after])}`);
  assert.equal(after.get(String(process.pid)), processCpus, 'the server\'s own thread is left where it was');

  const index = await httpRequest(`${url}/v2/repository/index`, 'POST', '{}', { 'content-type': 'application/json' });
  const reasons = new Map((JSON.parse(index.body.toString()) as Array<{ name: string; state: string; reason: string }>).map((e) => [e.name, e]));
  assert.match(reasons.get('reversed')!.reason, /instance_cpus: each range must run from the lower CPU to the higher/);
  assert.match(reasons.get('words')!.reason, /instance_cpus: a CPU list such as/);
  assert.match(reasons.get('inline')!.reason, /instance_cpus: binds instance threads; with instance_kind 'inline'/);
  assert.equal(reasons.get('absent')!.state, 'UNAVAILABLE');
  assert.match(reasons.get('absent')!.reason, /instance_cpus: '4095' could not be applied/);
});
