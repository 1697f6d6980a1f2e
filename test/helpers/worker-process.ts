import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const PIPELINE_MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** Starts `modelplane worker …` as a real process (the CLI entry through tsx). */
export function spawnWorker(args: readonly string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', PIPELINE_MAIN, 'worker', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.setEncoding('utf8');
  let log = '';
  child.stderr?.on('data', (d: string) => {
    log = (log + d).slice(-4000);
  });
  (child as ChildProcess & { log: () => string }).log = () => log;
  return child;
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
