import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { MpError } from '../errors.js';
import type { ClaimedJob, QueueBackend } from '../queue/queue-backend.js';
import { NO_MODELS, type ModelInvoker } from './model-invoker.js';
import type { PipelineRegistry, RegisteredPipeline } from './pipeline-registry.js';
import { NOOP_STATS, type PipelineStats } from './pipeline-stats.js';
import type { PipelineDefinition } from './pipeline-definition.js';
import { executeRun, type RunEnvironment } from './run-executor.js';
import { RunAbortedError, UnrecoverableStepError } from './step-errors.js';
import { StepLimiter } from './step-limiter.js';

/** Finished runs deleted per backend call. */
const CLEAN_BATCH = 500;

/** Half the shortest keep time, between one maintenance period and a minute: a run outlives its keep time by at most that. */
function cleanIntervalMs(keep: PipelineDefinition['keepFinished'], periodMs: number): number {
  const times = [keep.completedMs, keep.cancelledMs, keep.deadMs].filter((ms): ms is number => ms !== null);
  if (times.length === 0) return Number.POSITIVE_INFINITY;
  return Math.min(60_000, Math.max(periodMs, Math.min(...times) / 2));
}

export interface PipelineWorkerOptions {
  readonly backend: QueueBackend;
  readonly registry: PipelineRegistry;
  readonly invoker?: ModelInvoker;
  readonly stats?: PipelineStats;
  /** Pipelines to serve; all registered ones when omitted. */
  readonly pipelines?: readonly string[];
  /** Runs in flight in this process. The worker claims only while below it (bounded prefetch). */
  readonly concurrency?: number;
  /** Sleep when every queue came back empty. */
  readonly idlePollMs?: number;
  /** Called with errors the loop survives (backend hiccups). */
  readonly onError?: (err: unknown) => void;
}

/**
 * Pulls runs from the queue and executes them. It never holds more than `concurrency` runs: claiming is
 * the only way work enters the process, so a busy worker leaves runs in the queue for others.
 * Each held run is heartbeated every lease/3; the lease's end is what re-delivers the run of a killed worker.
 */
export class PipelineWorker {
  readonly id = randomUUID();
  readonly #o: Required<Omit<PipelineWorkerOptions, 'pipelines' | 'onError'>> & { onError: (err: unknown) => void };
  readonly #pipelines: RegisteredPipeline[];
  readonly #limiters = new Map<string, StepLimiter>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #env: RunEnvironment;
  readonly #stopping = new AbortController();
  #loop: Promise<void> | null = null;
  #maintenance: Promise<void> | null = null;

  constructor(options: PipelineWorkerOptions) {
    this.#o = {
      backend: options.backend, registry: options.registry, invoker: options.invoker ?? NO_MODELS, stats: options.stats ?? NOOP_STATS,
      concurrency: options.concurrency ?? 4, idlePollMs: options.idlePollMs ?? 50, onError: options.onError ?? (() => undefined),
    };
    setMaxListeners(0, this.#stopping.signal); // one listener per held run, by design
    this.#pipelines = (options.pipelines ?? options.registry.names()).map((n) => options.registry.get(n));
    if (this.#pipelines.length === 0) throw new MpError('MP_CONFIG_INVALID', 'worker: no pipelines to serve');
    if (!(this.#o.concurrency >= 1)) throw new MpError('MP_CONFIG_INVALID', `worker: concurrency must be >= 1, got ${this.#o.concurrency}`);
    this.#env = {
      backend: this.#o.backend, registry: this.#o.registry, invoker: this.#o.invoker, stats: this.#o.stats,
      limiter: (p, s) => this.#limiter(p, s),
    };
  }

  /** Runs currently held. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  start(): void {
    this.#loop ??= this.#claimLoop();
    this.#maintenance ??= this.#maintenanceLoop();
  }

  /** Stops claiming and waits for held runs to finish (`drain`), or aborts them so they are re-delivered. Idempotent. */
  async stop(options: { drain?: boolean } = {}): Promise<void> {
    if (!this.#stopping.signal.aborted) {
      this.#stopping.abort(options.drain === false ? new RunAbortedError('shutdown') : undefined);
    }
    await this.#loop;
    await this.#maintenance;
    await Promise.allSettled([...this.#inFlight]);
  }

  /**
   * `concurrency` slots, each claiming one run and processing it before claiming again (as BullMQ's worker
   * runs `concurrency` fetchers). Claims overlap, so one slow round trip does not stall every slot, and the
   * process never holds more than `concurrency` runs.
   */
  async #claimLoop(): Promise<void> {
    await Promise.all(Array.from({ length: this.#o.concurrency }, (_, slot) => this.#slot(slot)));
  }

  async #slot(slot: number): Promise<void> {
    let next = slot;
    while (!this.#stopping.signal.aborted) {
      let claimed = false;
      for (let i = 0; i < this.#pipelines.length && !claimed && !this.#stopping.signal.aborted; i++) {
        const reg = this.#pipelines[(next + i) % this.#pipelines.length]!;
        try {
          const job = await this.#o.backend.claim(reg.definition.name, { leaseMs: reg.definition.leaseMs });
          if (job) {
            claimed = true;
            await this.#hold(reg, job);
          }
        } catch (err) {
          this.#o.onError(err);
        }
      }
      next++;
      if (!claimed) await sleep(this.#o.idlePollMs, undefined, { signal: this.#stopping.signal }).catch(() => undefined);
    }
  }

  /**
   * Promotes due retries, recovers expired leases and deletes finished runs past their keep time; any
   * worker may do it, the backend makes it safe.
   */
  async #maintenanceLoop(): Promise<void> {
    const periodMs = Math.max(50, Math.min(...this.#pipelines.map((p) => p.definition.leaseMs)) / 2);
    const nextCleanAt = new Map<string, number>();
    while (!this.#stopping.signal.aborted) {
      for (const p of this.#pipelines) {
        try {
          await this.#o.backend.recoverStalled(p.definition.name);
          await this.#o.backend.promoteDelayed(p.definition.name);
          if (Date.now() >= (nextCleanAt.get(p.definition.name) ?? 0)) {
            nextCleanAt.set(p.definition.name, Date.now() + cleanIntervalMs(p.definition.keepFinished, periodMs));
            await this.#cleanFinished(p.definition.name, p.definition.keepFinished);
          }
        } catch (err) {
          this.#o.onError(err);
        }
      }
      await sleep(periodMs, undefined, { signal: this.#stopping.signal }).catch(() => undefined);
    }
  }

  async #cleanFinished(queue: string, keep: PipelineDefinition['keepFinished']): Promise<void> {
    for (const [state, ms] of [['completed', keep.completedMs], ['cancelled', keep.cancelledMs], ['dead', keep.deadMs]] as const) {
      if (ms === null) continue;
      // In batches, each its own transaction: a large backlog never holds the queue's write lock for long.
      let removed = CLEAN_BATCH;
      while (removed === CLEAN_BATCH && !this.#stopping.signal.aborted) removed = await this.#o.backend.clean(queue, state, ms, CLEAN_BATCH);
    }
  }

  #hold(reg: RegisteredPipeline, job: ClaimedJob): Promise<void> {
    const p = this.#process(reg, job).finally(() => this.#inFlight.delete(p));
    this.#inFlight.add(p);
    return p;
  }

  async #process(reg: RegisteredPipeline, job: ClaimedJob): Promise<void> {
    const pipeline = reg.definition.name;
    const leaseMs = reg.definition.leaseMs;
    const abort = new AbortController();
    const onStop = (): void => {
      if (this.#stopping.signal.reason instanceof RunAbortedError) abort.abort(this.#stopping.signal.reason);
    };
    this.#stopping.signal.addEventListener('abort', onStop, { once: true });
    const heartbeat = setInterval(() => {
      this.#o.backend.heartbeat(job, leaseMs).then((h) => {
        if (h !== 'ok') abort.abort(new RunAbortedError(h));
      }, (err: unknown) => this.#o.onError(err));
    }, Math.max(10, Math.floor(leaseMs / 3)));
    const started = performance.now();
    const seconds = (): number => (performance.now() - started) / 1000;
    try {
      const outcome = await executeRun(this.#env, reg, job, abort.signal);
      const ok = await this.#o.backend.complete(job, outcome.result);
      this.#o.stats.runFinished(pipeline, ok ? 'completed' : 'lost', seconds(), outcome.items);
    } catch (err) {
      const reason = abort.signal.reason instanceof RunAbortedError ? abort.signal.reason : err instanceof RunAbortedError ? err : null;
      if (reason && reason.reason !== 'cancelled') {
        // Lost lease or shutdown: write nothing; the lease's end re-delivers the run.
        this.#o.stats.runFinished(pipeline, 'lost', seconds(), 0);
        return;
      }
      const message = err instanceof Error ? err.message : String(err);
      const out = await this.#o.backend.fail(job, message, { retryable: !(err instanceof UnrecoverableStepError) }).catch((e: unknown) => {
        this.#o.onError(e);
        return 'lost' as const;
      });
      this.#o.stats.runFinished(pipeline, out, seconds(), 0);
    } finally {
      clearInterval(heartbeat);
      this.#stopping.signal.removeEventListener('abort', onStop);
    }
  }

  #limiter(pipeline: string, step: string): StepLimiter {
    const key = `${pipeline}\0${step}`;
    let l = this.#limiters.get(key);
    if (!l) {
      const def = this.#o.registry.get(pipeline).plan.byName.get(step)?.def;
      l = new StepLimiter(def?.concurrency, def?.ratePerSecond);
      this.#limiters.set(key, l);
    }
    return l;
  }
}
