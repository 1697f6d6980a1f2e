import { setTimeout as sleep } from 'node:timers/promises';
import { MpError } from '../errors.js';
import type { CancelOutcome, JobInfo, JobState, QueueBackend, QueueDepth, QueueEvent } from '../queue/queue-backend.js';
import type { PipelineDefinition } from './pipeline-definition.js';
import type { PipelineRegistry, RegisteredPipeline } from './pipeline-registry.js';
import { NOOP_STATS, type PipelineStats } from './pipeline-stats.js';
import { checkpointKey, type RunPayload } from './run-executor.js';

export interface SubmitOptions {
  /** Same key, same pipeline: the same run comes back, whatever its state. */
  readonly idempotencyKey?: string;
  /** Lower runs first (0..1,000,000); the pipeline's `defaultPriority` when omitted. */
  readonly priority?: number;
  readonly delayMs?: number;
  /**
   * When the pipeline's queue is full: 0 refuses at once with MP_QUEUE_FULL (what HTTP does);
   * > 0 waits up to this long for room, then refuses.
   */
  readonly waitTimeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface SubmitResult {
  readonly runId: string;
  /** false when the idempotency key matched an existing run. */
  readonly created: boolean;
}

export type StepState = 'pending' | 'running' | 'completed';

export interface StepStatus {
  readonly name: string;
  readonly state: StepState;
  /** Fan-out steps: items recorded so far, and how many there are once the fan-out step has run. */
  readonly items: { readonly completed: number; readonly total: number | null } | null;
}

export interface RunStatus {
  readonly id: string;
  readonly pipeline: string;
  readonly state: JobState;
  readonly attemptsMade: number;
  readonly maxAttempts: number;
  readonly error: string | null;
  readonly result: unknown;
  readonly steps: readonly StepStatus[];
  readonly createdAtMs: number;
  readonly finishedAtMs: number | null;
}

/** Progress as the HTTP/CLI surfaces show it. */
export interface RunEvent {
  readonly type: QueueEvent['type'];
  readonly pipeline: string;
  readonly runId: string;
  readonly data: unknown;
}

const FULL_RETRY_MIN_MS = 20;
const FULL_RETRY_MAX_MS = 500;

/**
 * The front door to pipelines: submit (idempotency keys, priority, delay, backpressure), status with per-step
 * state, cancel, dead-letter listing and redrive, progress events. The HTTP routes and the CLI both call this.
 */
export class PipelineService {
  readonly #backend: QueueBackend;
  readonly #registry: PipelineRegistry;
  readonly #stats: PipelineStats;
  readonly #subscriptions = new Map<string, { listeners: Set<(e: QueueEvent) => void>; stop: Promise<() => Promise<void>> }>();

  constructor(options: { backend: QueueBackend; registry: PipelineRegistry; stats?: PipelineStats }) {
    this.#backend = options.backend;
    this.#registry = options.registry;
    this.#stats = options.stats ?? NOOP_STATS;
  }

  pipelines(): string[] {
    return this.#registry.names();
  }

  /** The pipeline's definition in its JSON form (defaults filled in). */
  definition(pipeline: string): PipelineDefinition {
    return this.#registry.get(pipeline).definition;
  }

  async submit(pipeline: string, input: unknown, options: SubmitOptions = {}): Promise<SubmitResult> {
    const reg = this.#registry.get(pipeline);
    const def = reg.definition;
    const deadline = Date.now() + (options.waitTimeoutMs ?? 0);
    let pauseMs = FULL_RETRY_MIN_MS;
    const payload: RunPayload = { input: input ?? null };
    for (;;) {
      const out = await this.#backend.enqueue({
        queue: pipeline, payload, idempotencyKey: options.idempotencyKey, priority: options.priority ?? def.defaultPriority,
        delayMs: options.delayMs, retry: def.retry, maxQueued: def.maxQueued,
      });
      if (out.status !== 'full') return { runId: out.id, created: out.status === 'created' };
      // Full: wait for room (TS API) or refuse (HTTP). Room appears as workers finish runs.
      const left = deadline - Date.now();
      if (left <= 0) {
        this.#stats.submitRefused(pipeline);
        throw new MpError('MP_QUEUE_FULL', `pipeline '${pipeline}': queue is full (${out.depth} unfinished runs, maxQueued ${def.maxQueued})`);
      }
      await sleep(Math.min(pauseMs, left), undefined, options.signal ? { signal: options.signal } : undefined);
      pauseMs = Math.min(FULL_RETRY_MAX_MS, pauseMs * 2);
    }
  }

  async status(pipeline: string, runId: string): Promise<RunStatus> {
    const reg = this.#registry.get(pipeline);
    const info = await this.#backend.get(pipeline, runId);
    if (!info) throw new MpError('MP_NOT_FOUND', `pipeline '${pipeline}': run '${runId}' not found`);
    return toStatus(reg, info);
  }

  async cancel(pipeline: string, runId: string): Promise<CancelOutcome> {
    this.#registry.get(pipeline);
    const out = await this.#backend.cancel(pipeline, runId);
    if (out === 'not-found') throw new MpError('MP_NOT_FOUND', `pipeline '${pipeline}': run '${runId}' not found`);
    return out;
  }

  async listDead(pipeline: string, options?: { limit?: number; offset?: number }): Promise<RunStatus[]> {
    const reg = this.#registry.get(pipeline);
    return (await this.#backend.listDead(pipeline, options)).map((i) => toStatus(reg, i));
  }

  /** Sends dead runs (one, or all) back to the queue with a fresh attempt budget; completed steps stay skipped. */
  async redrive(pipeline: string, runId?: string): Promise<number> {
    this.#registry.get(pipeline);
    const n = await this.#backend.redrive(pipeline, runId);
    if (runId !== undefined && n === 0) throw new MpError('MP_NOT_FOUND', `pipeline '${pipeline}': run '${runId}' is not in the dead-letter queue`);
    return n;
  }

  async depth(pipeline: string): Promise<QueueDepth> {
    this.#registry.get(pipeline);
    return this.#backend.depth(pipeline);
  }

  /**
   * Progress events of one pipeline (or one run of it), from every process. Resolves once listening.
   * All listeners of a pipeline share one backend subscription (one Redis connection, one SQLite poller).
   */
  async subscribe(pipeline: string, listener: (e: RunEvent) => void, runId?: string): Promise<() => Promise<void>> {
    this.#registry.get(pipeline);
    const wrapped = (e: QueueEvent): void => {
      if (runId === undefined || e.id === runId) listener({ type: e.type, pipeline, runId: e.id, data: e.data });
    };
    let shared = this.#subscriptions.get(pipeline);
    if (!shared) {
      const listeners = new Set<(e: QueueEvent) => void>();
      const fanOut = (e: QueueEvent): void => {
        for (const l of listeners) l(e);
      };
      shared = { listeners, stop: this.#backend.subscribe(pipeline, fanOut) };
      this.#subscriptions.set(pipeline, shared);
      shared.stop.catch(() => this.#subscriptions.delete(pipeline));
    }
    const entry = shared;
    await entry.stop;
    // The last listener may have left (closing the shared subscription) while we waited: start a fresh one.
    if (this.#subscriptions.get(pipeline) !== entry) return this.subscribe(pipeline, listener, runId);
    entry.listeners.add(wrapped);
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      entry.listeners.delete(wrapped);
      if (entry.listeners.size === 0 && this.#subscriptions.get(pipeline) === entry) {
        this.#subscriptions.delete(pipeline);
        await (await entry.stop)();
      }
    };
  }
}

/** Per-step state comes from the recorded step results, so it is exact whichever worker ran them. */
function toStatus(reg: RegisteredPipeline, info: JobInfo): RunStatus {
  const ck = info.checkpoints;
  const states = new Map<string, StepState>();
  // A step is running when the run is held and everything it needs is recorded.
  const ready = (deps: readonly string[]): boolean => info.state === 'active' && deps.every((d) => states.get(d) === 'completed');
  const steps: StepStatus[] = reg.plan.steps.map((s) => {
    const name = s.def.name;
    let status: StepStatus;
    if (s.scope === null) {
      const done = Object.prototype.hasOwnProperty.call(ck, checkpointKey(name, null));
      status = { name, state: done ? 'completed' : ready(s.deps) ? 'running' : 'pending', items: null };
    } else {
      const fan = ck[checkpointKey(s.scope, null)];
      const total = Array.isArray(fan) ? fan.length : null;
      let completed = 0;
      const prefix = `${name}#`;
      for (const k of Object.keys(ck)) if (k.startsWith(prefix)) completed++;
      const state: StepState = total !== null && completed >= total ? 'completed' : total !== null && info.state === 'active' ? 'running' : 'pending';
      status = { name, state, items: { completed, total } };
    }
    states.set(name, status.state);
    return status;
  });
  return {
    id: info.id, pipeline: reg.definition.name, state: info.state, attemptsMade: info.attemptsMade, maxAttempts: info.maxAttempts,
    error: info.error, result: info.result, steps, createdAtMs: info.createdAtMs, finishedAtMs: info.finishedAtMs,
  };
}
