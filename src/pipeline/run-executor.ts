import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { MpError } from '../errors.js';
import { backoffDelayMs } from '../queue/backoff.js';
import type { ClaimedJob, QueueBackend } from '../queue/queue-backend.js';
import { jsonToTensorMap, tensorMapToJson, type ModelInvoker } from './model-invoker.js';
import type { PlannedStep } from './pipeline-dag.js';
import type { PipelineRegistry, RegisteredPipeline, StepContext } from './pipeline-registry.js';
import type { PipelineStats } from './pipeline-stats.js';
import { RunAbortedError, StepTimeoutError, UnrecoverableStepError } from './step-errors.js';
import type { StepLimiter } from './step-limiter.js';

/** What a run needs from the worker that claimed it. */
export interface RunEnvironment {
  readonly backend: QueueBackend;
  readonly registry: PipelineRegistry;
  readonly invoker: ModelInvoker;
  readonly stats: PipelineStats;
  limiter(pipeline: string, step: string): StepLimiter;
}

/** A queued run's payload. */
export interface RunPayload {
  readonly input: unknown;
}

export interface RunOutcome {
  /** The outputs of the sink steps, by step name (an array for steps inside a fan-out). */
  readonly result: Record<string, unknown>;
  readonly items: number;
}

/** Checkpoint key of one step instance: `step` for run-level steps, `step#i` for fan-out item i. */
export function checkpointKey(step: string, item: number | null): string {
  return item === null ? step : `${step}#${item}`;
}

/**
 * Executes one delivery of a run. Each step instance whose result an earlier delivery recorded is skipped;
 * every other one runs (under its step's limiter and retry policy) and its output is recorded before any
 * dependent starts, so a crash at any point loses at most the instances in flight.
 *
 * Fan-out items proceed independently: item 3 may be at `store` while item 7 is still at `normalise`.
 * The first failure aborts the rest of the run and is rethrown once everything in flight has settled.
 */
export async function executeRun(env: RunEnvironment, reg: RegisteredPipeline, job: ClaimedJob, signal: AbortSignal): Promise<RunOutcome> {
  const run = new AbortController();
  setMaxListeners(0, run.signal); // one listener per step instance in flight, by design
  const onOuter = (): void => run.abort(signal.reason);
  if (signal.aborted) onOuter();
  else signal.addEventListener('abort', onOuter, { once: true });
  const pipeline = reg.definition.name;
  const input = (job.payload as RunPayload | null)?.input ?? null;
  const single = new Map<string, Promise<unknown>>();
  const perItem = new Map<string, Promise<Promise<unknown>[]>>();
  const all: Promise<unknown>[] = [];
  let firstError: unknown = null;
  const track = <T>(p: Promise<T>): Promise<T> => {
    all.push(p.catch((err: unknown) => {
      if (firstError === null) {
        firstError = err;
        run.abort(err);
      }
    }));
    return p;
  };

  const depValue = async (dep: string, item: number | null): Promise<unknown> => {
    const d = reg.plan.byName.get(dep)!;
    if (d.scope === null) {
      const v = await single.get(dep)!;
      return item !== null && d.def.fanOut ? (v as unknown[])[item] : v;
    }
    if (item !== null) return (await perItem.get(dep)!)[item];
    return Promise.all(await perItem.get(dep)!); // a join gathers every item
  };

  const runInstance = async (step: PlannedStep, item: number | null): Promise<unknown> => {
    const deps: Record<string, unknown> = {};
    for (const d of step.deps) deps[d] = await depValue(d, item);
    const stepInput = step.deps.length === 0 ? input : step.deps.length === 1 ? deps[step.deps[0]!] : deps;
    return runStep(env, reg, job, step, item, stepInput, deps, run.signal);
  };

  for (const step of reg.plan.steps) {
    const name = step.def.name;
    if (step.scope === null) {
      single.set(name, track(runInstance(step, null).then((v) => {
        if (step.def.fanOut && !Array.isArray(v)) {
          throw new UnrecoverableStepError(`pipeline '${pipeline}' step '${name}' is a fan-out step but returned ${typeof v}, not an array`);
        }
        return v;
      })));
    } else {
      const items = single.get(step.scope)!.then((arr) => (arr as unknown[]).map((_, i) => track(runInstance(step, i))));
      perItem.set(name, track(items));
    }
  }

  // Every instance is tracked once created; keep waiting until no new instance appears.
  let settled = 0;
  while (settled < all.length) {
    const n = all.length;
    await Promise.all(all.slice(settled));
    settled = n;
  }
  signal.removeEventListener('abort', onOuter);
  if (firstError !== null) throw firstError;

  const result: Record<string, unknown> = {};
  let items = 1;
  for (const step of reg.plan.steps) {
    if (step.def.fanOut) items = Math.max(items, ((await single.get(step.def.name)) as unknown[]).length);
    if (!step.sink) continue;
    result[step.def.name] = step.scope === null ? await single.get(step.def.name) : await Promise.all(await perItem.get(step.def.name)!);
  }
  return { result, items };
}

async function runStep(
  env: RunEnvironment, reg: RegisteredPipeline, job: ClaimedJob, step: PlannedStep, item: number | null,
  input: unknown, deps: Record<string, unknown>, signal: AbortSignal,
): Promise<unknown> {
  const pipeline = reg.definition.name;
  const name = step.def.name;
  const key = checkpointKey(name, item);
  if (Object.prototype.hasOwnProperty.call(job.checkpoints, key)) {
    env.stats.stepFinished(pipeline, name, 'skipped', 0);
    return job.checkpoints[key];
  }
  const retry = step.def.retry ?? { maxAttempts: 1, backoffMs: 0, maxBackoffMs: 0, jitter: 0 };
  const release = await env.limiter(pipeline, name).acquire(signal);
  let output: unknown;
  try {
    for (let attempt = 1; ; attempt++) {
      signal.throwIfAborted();
      const started = performance.now();
      try {
        output = await attemptStep(env, step, { pipeline, runId: job.id, step: name, item, attempt, signal, deps, runInput: (job.payload as RunPayload | null)?.input ?? null }, input);
        env.stats.stepFinished(pipeline, name, 'completed', (performance.now() - started) / 1000);
        break;
      } catch (err) {
        env.stats.stepFinished(pipeline, name, 'failed', (performance.now() - started) / 1000);
        if (signal.aborted || err instanceof UnrecoverableStepError || attempt >= retry.maxAttempts) throw err;
        env.stats.stepRetried(pipeline, name);
        await sleep(backoffDelayMs(retry, attempt), undefined, { signal });
      }
    }
  } finally {
    release();
  }
  // Record before any dependent starts: a later delivery then skips this instance.
  if (!(await env.backend.checkpoint(job, key, output ?? null, { step: name, item, state: 'completed' }))) throw new RunAbortedError('lost');
  return output ?? null;
}

async function attemptStep(env: RunEnvironment, step: PlannedStep, ctx: Omit<StepContext, 'signal'> & { signal: AbortSignal }, input: unknown): Promise<unknown> {
  const timeoutMs = step.def.timeoutMs;
  const local = new AbortController();
  const onOuter = (): void => local.abort(ctx.signal.reason);
  ctx.signal.addEventListener('abort', onOuter, { once: true });
  let timer: NodeJS.Timeout | undefined;
  try {
    const work = invokeStep(env, step, { ...ctx, signal: local.signal }, input);
    if (timeoutMs === undefined) return await work;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new StepTimeoutError(step.def.name, timeoutMs);
        local.abort(err);
        reject(err);
      }, timeoutMs);
    });
    return await Promise.race([work, timeout]);
  } finally {
    if (timer) clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onOuter);
  }
}

async function invokeStep(env: RunEnvironment, step: PlannedStep, ctx: StepContext, input: unknown): Promise<unknown> {
  const def = step.def;
  if (def.model !== undefined) {
    const opts: { version?: string; outputs?: readonly string[] } = {};
    if (def.version !== undefined) opts.version = def.version;
    if (def.outputs !== undefined) opts.outputs = def.outputs;
    return tensorMapToJson(await env.invoker.infer(def.model, jsonToTensorMap(def.name, input), opts));
  }
  const fn = env.registry.fn(def.function!);
  if (!fn) throw new MpError('MP_CONFIG_INVALID', `step '${def.name}': function '${def.function}' is not registered`);
  return fn(input, ctx);
}
