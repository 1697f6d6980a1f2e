import { Worker } from 'node:worker_threads';

const FROM_SOURCES = import.meta.url.endsWith('.ts');

/**
 * Starts a worker thread: compiled JS directly, or the TypeScript source through a tsx bootstrap
 * (on Node 20, worker threads do not inherit the parent's module loader hooks).
 * `script` is the worker module without extension, relative to `base` (the caller's import.meta.url).
 */
export function spawnWorker(base: string, script: string, init: object): Worker {
  if (!FROM_SOURCES) return new Worker(new URL(`${script}.js`, base), { workerData: init });
  const tsWorkerUrl = new URL(`${script}.ts`, base).href;
  return new Worker(new URL('./ts-worker-bootstrap.mjs', import.meta.url), { workerData: { ...init, tsWorkerUrl } });
}
