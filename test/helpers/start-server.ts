import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startApp, type AppOptions, type RunningApp } from '../../src/app.js';
import type { Cleanup } from './temp-repo.js';

export interface StartOptions {
  bodyLimitBytes?: number;
  /** Any other app option (model control mode, admin token, data directory, ...). */
  app?: Partial<AppOptions>;
}

export interface TestServer {
  readonly url: string;
  readonly app: RunningApp;
}

/** Starts the app in-process on 127.0.0.1 with a free port, waits until ready, and closes it after the test. */
export async function startServer(t: Cleanup, repository: string, options: StartOptions = {}): Promise<TestServer> {
  const app = await startApp({
    repository,
    host: '127.0.0.1',
    port: 0,
    bodyLimitBytes: options.bodyLimitBytes ?? 64 * 1024 * 1024,
    logger: false,
    ...options.app,
  });
  t.after(() => app.close());
  await waitReady(app.url);
  return { url: app.url, app };
}

/** Polls /v2/health/ready until it answers 200 (never a fixed port, never a fixed sleep as the only wait). */
export async function waitReady(url: string, attempts = 200): Promise<void> {
  let last = '';
  for (let i = 0; i < attempts; i++) {
    try {
      const res = await fetch(`${url}/v2/health/ready`);
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`server at ${url} never became ready (${last})`);
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface CliServer {
  readonly url: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code (or the signal name) once the process has ended. */
  readonly exited: Promise<number | string>;
  /** Everything the process wrote, for failure messages. */
  output(): string;
}

/** Spawns `modelplane serve` as a child process on a free port and waits for its "url" log line and readiness. */
export async function startCli(t: Cleanup, repository: string, extraArgs: string[] = []): Promise<CliServer> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), 'serve', '--repository', repository, '--host', '127.0.0.1', '--port', '0', ...extraArgs],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info' } },
  );
  let log = '';
  const exited = new Promise<number | string>((res) => child.once('exit', (code, signal) => res(code ?? signal ?? 'unknown')));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const url = await new Promise<string>((res, rej) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      log += `${line}\n`;
      try {
        const parsed = JSON.parse(line) as { url?: unknown };
        if (typeof parsed.url === 'string') res(parsed.url);
      } catch {
        // not a JSON log line
      }
    });
    void exited.then((code) => rej(new Error(`modelplane exited (${code}) before listening:\n${log}`)));
  });
  await waitReady(url);
  return { url, child, exited, output: () => log };
}
