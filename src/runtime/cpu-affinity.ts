import { spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { getSystemErrorName } from 'node:util';
import { MpError } from '../errors.js';
import { nativeAddon } from './native-addon.js';

/**
 * Binds the calling thread to a set of CPUs (a Linux CPU list: "1", "2-3", "0,4-7"), as Triton's
 * host policy binds instances to cores. Called first thing in an instance thread, so the threads
 * its runtime starts afterwards (ONNX Runtime's intra-op pool) inherit the set. What it is for:
 * a compute thread that shares a core with the event loop takes turns with it, so every request's
 * parse and every refusal waits behind a slice of inference, and inference slows by what they take.
 *
 * Node has no affinity call of its own: the native addon makes the one system call (sched_setaffinity
 * for the calling thread); where it is not built, util-linux's `taskset` makes it for this thread's id.
 * The kernel silently keeps only the CPUs this process may use, so the set it reports afterwards is
 * compared with the one asked for.
 */
export function bindCurrentThread(cpus: string): void {
  checkAffinitySupported();
  const native = nativeAddon();
  if (native instanceof Error) bindWithTaskset(cpus);
  else {
    const errno = native.setThreadAffinity(expandCpuList(cpus));
    if (errno !== 0) throw new MpError('MP_CONFIG_INVALID', `instance_cpus: '${cpus}' could not be applied: ${osErrorName(errno)}`);
  }
  const applied = currentThreadCpus();
  if (!sameCpus(expandCpuList(applied), expandCpuList(cpus))) {
    throw new MpError('MP_CONFIG_INVALID', `instance_cpus: '${cpus}' names CPUs this process may not use (the kernel applied '${applied}')`);
  }
}

function bindWithTaskset(cpus: string): void {
  const result = spawnSync('taskset', ['-p', '-c', cpus, threadId()], { encoding: 'utf8' });
  if (result.error) throw new MpError('MP_UNSUPPORTED', `instance_cpus: could not run taskset (util-linux): ${result.error.message}`, { cause: result.error });
  if (result.status !== 0) throw new MpError('MP_CONFIG_INVALID', `instance_cpus: '${cpus}' could not be applied: ${result.stderr.trim() || `taskset exited with ${result.status}`}`);
}

/** "EINVAL (errno 22)". */
function osErrorName(errno: number): string {
  return `${getSystemErrorName(-errno)} (errno ${errno})`;
}

/** Fails early, on the thread that loads the model, where the binding cannot work at all. */
export function checkAffinitySupported(): void {
  if (process.platform !== 'linux') throw new MpError('MP_UNSUPPORTED', `instance_cpus: binding threads to CPUs needs Linux (this is ${process.platform})`);
}

/** The CPUs the calling thread may run on, as the kernel lists them. */
export function currentThreadCpus(): string {
  const status = readFileSync('/proc/thread-self/status', 'utf8');
  return /^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1] ?? '';
}

/** "0,2-4" -> [0, 2, 3, 4]. */
export function expandCpuList(list: string): number[] {
  const out: number[] = [];
  for (const part of list.split(',')) {
    if (part === '') continue;
    const [from, to = from] = part.split('-').map(Number);
    for (let cpu = from!; cpu <= to!; cpu++) out.push(cpu);
  }
  return out;
}

function sameCpus(a: readonly number[], b: readonly number[]): boolean {
  const set = new Set(a);
  return set.size === new Set(b).size && b.every((cpu) => set.has(cpu));
}

/** This thread's id in the kernel (not the process id, which every thread shares). */
function threadId(): string {
  return readlinkSync('/proc/thread-self').split('/').pop()!;
}
