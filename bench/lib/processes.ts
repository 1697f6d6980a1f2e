import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { LoadResult, LoadSpec } from './load-worker.js';
import { cpuPlan, pinnedCommand, type CpuPlan } from './cpu-plan.js';

const TSX = ['--import', 'tsx'];

let plan: CpuPlan = cpuPlan(false);

/** Pins every process started from now on according to `p` (see cpu-plan.ts). */
export function useCpuPlan(p: CpuPlan): void {
  plan = p;
}

export interface ServerHandle {
  readonly url: string;
  readonly pid: number;
  /** CPU seconds (user + system) the process has used so far. */
  cpuSeconds(): number;
  /** Resident set size now, and the peak since start, in bytes. */
  memory(): { rssBytes: number; peakRssBytes: number };
  stop(): Promise<void>;
}

const CLOCK_TICKS = 100; // sysconf(_SC_CLK_TCK) on Linux

const URL_LINE = /LISTENING (http:\/\/\S+)|"url":"(http:\/\/[^"]+)"/;

/**
 * Starts a server script as a child process and waits for the line that tells its URL. With
 * `logFile` the server writes its stdout straight into that file (as to a log shipper's file; the
 * bench process never touches log lines), else the bench reads stdout until the URL and drains it.
 * `cpus` overrides the CPU plan's measured CPUs for this process (a taskset list).
 */
export function startServerProcess(args: string[], env: Record<string, string> = {}, logFile?: string, cpus = plan.measured): Promise<ServerHandle> {
  const [command, argv] = pinnedCommand(cpus, [...TSX, ...args]);
  const logFd = logFile ? openSync(logFile, 'w') : undefined;
  const child = spawn(command, argv, {
    stdio: ['ignore', logFd ?? 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'warn', ORT_INTRA_OP_THREADS: String(plan.measuredCpus), ...env },
  });
  if (logFd !== undefined) closeSync(logFd);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 120_000);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${stderr}`)));
    const started = (url: string) => {
      clearTimeout(timer);
      resolve(handle(child, url));
    };
    if (logFile) {
      const poll = setInterval(() => {
        const m = URL_LINE.exec(readFileSync(logFile, 'utf8'));
        if (!m) return;
        clearInterval(poll);
        started((m[1] ?? m[2])!);
      }, 100);
      child.once('exit', () => clearInterval(poll));
      return;
    }
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const m = URL_LINE.exec(line);
      if (!m) return;
      lines.removeAllListeners('line');
      lines.close();
      child.stdout!.resume();
      started((m[1] ?? m[2])!);
    });
  });
}

function handle(child: ChildProcess, url: string): ServerHandle {
  const pid = child.pid!;
  return {
    url,
    pid,
    cpuSeconds() {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    },
    memory() {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
      return { rssBytes: kb('VmRSS'), peakRssBytes: kb('VmHWM') };
    },
    stop() {
      return new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.removeAllListeners('exit');
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
      });
    },
  };
}

/** Runs one load-generator process and returns what it measured. */
export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return runJsonChild<LoadResult>(['bench/lib/load-worker.ts', JSON.stringify(spec)], 'loadgen');
}

/** Runs a TS script in a fresh process (on the measured CPUs, or the load generator's) and parses the last JSON line it prints. */
export function runJsonChild<T>(args: string[], role: 'measured' | 'loadgen' = 'measured'): Promise<T> {
  const [command, argv] = pinnedCommand(role === 'loadgen' ? plan.loadgen : plan.measured, [...TSX, ...args]);
  const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ORT_INTRA_OP_THREADS: String(plan.measuredCpus) } });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) reject(new Error(`${args[0]} failed (${code}): ${err.slice(-2000)}`));
      else resolve(JSON.parse(last) as T);
    });
  });
}
