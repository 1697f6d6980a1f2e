import { spawnSync } from 'node:child_process';
import os from 'node:os';

/**
 * Which CPUs the load generator and the measured processes run on. A load generator sharing the
 * server's cores steals the CPU it measures (on a 2-core machine, a third of it at 1k req/s), as it
 * never would from its own machine: pinned, the load generator gets CPU 0 and every measured
 * process (servers, baselines, the in-process ceiling) the rest, with ONNX Runtime's intra-op
 * threads set to that many CPUs for all of them alike.
 */
export interface CpuPlan {
  /** taskset CPU lists; undefined = not pinned. */
  readonly loadgen: string | undefined;
  readonly measured: string | undefined;
  /** CPUs the measured processes may use (ORT intra-op threads for every configuration). */
  readonly measuredCpus: number;
  /**
   * Modelplane with its instances in their own threads: where its process (the event loop) runs,
   * and the instance_cpus its instance threads bind to. The event loop shares the load generator's
   * CPU; the compute gets the measured CPUs to itself, as (c), (d) and (e) do. Undefined = like the others.
   */
  readonly modelplane: { readonly process: string; readonly instanceCpus: string } | undefined;
  readonly description: string;
}

export function cpuPlan(pin: boolean): CpuPlan {
  const n = os.availableParallelism();
  const taskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
  if (!pin || n < 2 || !taskset) {
    return { loadgen: undefined, measured: undefined, measuredCpus: n, modelplane: undefined, description: `not pinned: the load generator shares all ${n} CPUs with the measured process` };
  }
  const measured = n === 2 ? '1' : `1-${n - 1}`;
  return {
    loadgen: '0',
    measured,
    measuredCpus: n - 1,
    modelplane: { process: '0', instanceCpus: measured },
    description: `pinned (taskset): load generator on CPU 0; each measured process (servers, baselines, in-process ceiling) on CPU ${measured}, except Modelplane placed 'own': its event loop on CPU 0 beside the load generator, its instance threads bound to CPU ${measured} (instance_cpus); ONNX Runtime intra-op threads = ${n - 1}`,
  };
}

/** The command and arguments that run `node ...args` on the given CPUs. */
export function pinnedCommand(cpus: string | undefined, nodeArgs: string[]): [string, string[]] {
  return cpus === undefined ? [process.execPath, nodeArgs] : ['taskset', ['-c', cpus, process.execPath, ...nodeArgs]];
}
