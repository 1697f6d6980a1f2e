import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, type RunningApp } from '../../src/app.js';
import type { TextEmbedder } from '../../src/search/text-embedder.js';
import { waitReady } from './start-server.js';
import type { Cleanup } from './temp-repo.js';

export async function tempDir(t: Cleanup, prefix = 'mp-search-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts the app with collections in `dataDir` (a fresh temp dir unless given), no models, on a free port. */
export async function startSearchServer(t: Cleanup, options: { dataDir?: string; embedders?: TextEmbedder[] } = {}): Promise<{ url: string; app: RunningApp; dataDir: string }> {
  const dataDir = options.dataDir ?? (await tempDir(t));
  const repository = await tempDir(t, 'mp-repo-');
  const app = await startApp({
    repository,
    host: '127.0.0.1',
    port: 0,
    bodyLimitBytes: 64 * 1024 * 1024,
    logger: false,
    search: { dataDir, ...(options.embedders ? { embedders: options.embedders } : {}) },
  });
  t.after(() => app.close());
  await waitReady(app.url);
  return { url: app.url, app, dataDir };
}

/** A parsed JSON response body, read loosely by tests (they assert its shape). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsonBody = any;

/** JSON over HTTP: returns the status and the parsed body. */
export async function call(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: JsonBody }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : (JSON.parse(text) as unknown) };
}
