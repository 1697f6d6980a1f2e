import { spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { MpError } from '../errors.js';

/**
 * Binds the calling thread to a set of CPUs (a Linux CPU list: "1", "2-3", "0,4-7"), as Triton's
 * host policy binds instances to cores. Called first thing in an instance thread, so the threads
 * its runtime starts afterwards (ONNX Runtime's intra-op pool) inherit the set. What it is for:
 * a compute thread that shares a core with the event loop takes turns with it, so every request's
 * parse and every refusal waits behind a slice of inference, and inference slows by what they take.
 *
 * Node has no affinity call of its own; util-linux's `taskset` makes the one system call
 * (sched_setaffinity) for this thread's id. Returns the set the kernel reports afterwards.
 */
export function bindCurrentThread(cpus: string): string {
  if (process.platform !== 'linux') throw new MpError('MP_UNSUPPORTED', `instance_cpus: binding threads to CPUs needs Linux (this is ${process.platform})`);
  const tid = threadId();
  const result = spawnSync('taskset', ['-p', '-c', cpus, tid], { encoding: 'utf8' });
  if (result.error) throw new MpError('MP_UNSUPPORTED', `instance_cpus: could not run taskset (util-linux): ${result.error.message}`, { cause: result.error });
  if (result.status !== 0) throw new MpError('MP_CONFIG_INVALID', `instance_cpus: '${cpus}' could not be applied: ${result.stderr.trim() || `taskset exited with ${result.status}`}`);
  return currentThreadCpus();
}

/** The CPUs the calling thread may run on, as the kernel lists them. */
export function currentThreadCpus(): string {
  const status = readFileSync('/proc/thread-self/status', 'utf8');
  return /^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1] ?? '';
}

/** This thread's id in the kernel (not the process id, which every thread shares). */
function threadId(): string {
  return readlinkSync('/proc/thread-self').split('/').pop()!;
}
