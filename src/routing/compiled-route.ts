import { MpError, isMpError } from '../errors.js';
import type { RouteTarget, TrafficPolicy } from '../config/traffic-policy.js';
import type { InferOptions, ServingContext } from '../lifecycle/serving-context.js';
import type { TensorMap } from '../tensor/tensor.js';
import { cosineAtLeast, minTopScore, sameTop1 } from './agreement.js';
import type { RoutingSink } from './routing-sink.js';
import { WeightedSplit } from './weighted-split.js';

/** Resolves a model (and optional version) to the context that serves it; ModelManager is one. */
export interface ContextResolver {
  resolve(model: string, version?: string): ServingContext;
}

export type ResponseParameters = Record<string, string | number | boolean>;

export interface RoutedAnswer {
  readonly context: ServingContext;
  readonly outputs: TensorMap;
  /** Set when the response should say how it was routed (e.g. it came from a fallback). */
  readonly parameters: ResponseParameters | undefined;
}

interface Step {
  readonly label: string;
  readonly resolve: () => ServingContext;
  readonly timeoutMs: number;
}

/** Errors that are the request's own fault: another model would refuse them too, so no fallback. */
const NOT_RETRIED = new Set(['MP_INVALID_ARG', 'MP_CANCELLED', 'MP_PAYLOAD_TOO_LARGE']);

/**
 * One model's traffic policy, compiled once: how the primary answer is chosen (cascade, weighted
 * split or the highest READY version), what to try when it fails (fallback chain, per-step
 * deadlines), and which requests to mirror to a shadow candidate. Built by TrafficRouter and reused
 * for every request until the policy changes.
 */
export class CompiledRoute {
  private readonly split: WeightedSplit<RouteTarget & { readonly weight: number }> | undefined;
  private readonly fallbackSteps: readonly Step[];
  private shadowInFlight = 0;

  constructor(
    readonly model: string,
    readonly policy: TrafficPolicy,
    private readonly resolver: ContextResolver,
    private readonly sink: RoutingSink,
    private readonly random: () => number = Math.random,
  ) {
    this.split = policy.split ? new WeightedSplit(policy.split.targets) : undefined;
    this.fallbackSteps = (policy.fallback?.chain ?? []).map((t) => ({ label: this.label(t), resolve: () => this.resolveTarget(t), timeoutMs: t.timeout_ms }));
  }

  /** Routes one request. `key` makes a weighted split sticky. Rejects like ServingContext.infer when every step failed. */
  async infer(inputs: TensorMap, options: InferOptions, key: string | undefined): Promise<RoutedAnswer> {
    const shadow = this.policy.shadow;
    const opts = shadow ? withOutput(options, shadow.output) : options;
    const answer = await this.withFallback(inputs, opts, key);
    if (shadow && this.random() * 100 < shadow.percent) this.mirror(inputs, answer);
    return answer;
  }

  private async withFallback(inputs: TensorMap, options: InferOptions, key: string | undefined): Promise<RoutedAnswer> {
    const primaryTimeoutMs = this.policy.fallback?.timeout_ms ?? 0;
    let firstError: unknown;
    try {
      return await this.primary(inputs, options, key, primaryTimeoutMs);
    } catch (err) {
      if (this.fallbackSteps.length === 0 || !retryable(err)) throw err;
      firstError = err;
    }
    let failedLabel = errorLabel(firstError);
    let from = this.model;
    for (let i = 0; i < this.fallbackSteps.length; i++) {
      const step = this.fallbackSteps[i]!;
      this.sink.fallback(this.model, from, step.label, failedLabel);
      try {
        const answered = await this.attempt(step.resolve, inputs, options, 'fallback', step.timeoutMs);
        return { ...answered, parameters: { route: 'fallback', fallback_from: from, fallback_reason: failedLabel, fallback_step: i + 1 } };
      } catch (err) {
        if (!retryable(err)) throw err;
        from = step.label;
        failedLabel = errorLabel(err);
      }
    }
    throw firstError;
  }

  private async primary(inputs: TensorMap, options: InferOptions, key: string | undefined, timeoutMs: number): Promise<RoutedAnswer> {
    const cascade = this.policy.cascade;
    if (cascade) return this.cascade(inputs, options, timeoutMs);
    if (this.split) {
      const target = this.split.pick(this.policy.split!.sticky ? key : undefined, this.random);
      const own = target.model === undefined || target.model === this.model;
      return this.attempt(() => this.resolveTarget(target), inputs, options, 'split', timeoutMs, own ? target.version : undefined);
    }
    return this.attempt(() => this.resolver.resolve(this.model), inputs, options, 'default', timeoutMs);
  }

  /** Cheapest step first; escalate while the scores output's top value is below the threshold. */
  private async cascade(inputs: TensorMap, options: InferOptions, timeoutMs: number): Promise<RoutedAnswer> {
    const c = this.policy.cascade!;
    const opts = withOutput(options, c.output);
    const baseline = c.steps[c.steps.length - 1]!.cost;
    let spent = 0;
    for (let i = 0; i < c.steps.length; i++) {
      const step = c.steps[i]!;
      const answer = await this.attempt(() => this.resolveTarget(step), inputs, opts, 'cascade', timeoutMs);
      spent += step.cost;
      const scores = answer.outputs.get(c.output);
      const top = scores ? minTopScore(scores) : undefined;
      if (top === undefined) throw new MpError('MP_INVALID_ARG', `model '${this.model}': cascade output '${c.output}' is missing or not numeric`);
      const last = i === c.steps.length - 1;
      if (last || top >= c.threshold) {
        this.sink.cascade(this.model, i, spent, baseline);
        return i === 0 ? answer : { ...answer, parameters: { route: 'cascade', cascade_step: i } };
      }
    }
    throw new MpError('MP_INTERNAL', 'unreachable: cascade has no steps');
  }

  /** Runs one step with its deadline, reporting its outcome under `route`. */
  private async attempt(resolve: () => ServingContext, inputs: TensorMap, options: InferOptions, route: string, timeoutMs: number, intended?: number): Promise<RoutedAnswer> {
    let ctx: ServingContext;
    try {
      ctx = resolve();
    } catch (err) {
      // A split target that is not serving (unloaded, failed) counts against that version.
      if (intended !== undefined) this.sink.request(this.model, this.model, intended, route, false, 0);
      throw err;
    }
    const started = performance.now();
    try {
      const outputs = timeoutMs > 0 ? await inferWithDeadline(ctx, inputs, options, timeoutMs) : await ctx.infer(inputs, options);
      this.sink.request(this.model, ctx.name, ctx.version, route, true, (performance.now() - started) / 1000);
      return { context: ctx, outputs, parameters: undefined };
    } catch (err) {
      // A request the client itself got wrong says nothing about the version's health.
      if (retryable(err)) this.sink.request(this.model, ctx.name, ctx.version, route, false, (performance.now() - started) / 1000);
      throw err;
    }
  }

  /** Sends a copy to the shadow target in the background; compares its output with the primary's. Never throws. */
  private mirror(inputs: TensorMap, primary: RoutedAnswer): void {
    const s = this.policy.shadow!;
    let ctx: ServingContext;
    try {
      ctx = this.resolveTarget(s.target);
    } catch {
      this.sink.shadow(this.model, s.target.model ?? this.model, s.target.version ?? 0, false, 0, undefined);
      return;
    }
    if (ctx === primary.context) return; // the candidate answered itself (e.g. its canary share): nothing to compare
    if (this.shadowInFlight >= s.max_in_flight) {
      this.sink.shadowDropped(this.model);
      return;
    }
    this.shadowInFlight++;
    const started = performance.now();
    const expected = primary.outputs.get(s.output);
    ctx.infer(inputs, { outputs: [s.output] }).then(
      (outputs) => {
        const got = outputs.get(s.output);
        const agreed = !expected || !got ? undefined : s.compare === 'top1' ? sameTop1(expected, got) : cosineAtLeast(expected, got, s.cosine_threshold);
        this.sink.shadow(this.model, ctx.name, ctx.version, true, (performance.now() - started) / 1000, agreed);
      },
      () => this.sink.shadow(this.model, ctx.name, ctx.version, false, (performance.now() - started) / 1000, undefined),
    ).finally(() => {
      this.shadowInFlight--;
    });
  }

  private resolveTarget(t: RouteTarget): ServingContext {
    return this.resolver.resolve(t.model ?? this.model, t.version === undefined ? undefined : String(t.version));
  }

  private label(t: RouteTarget): string {
    return `${t.model ?? this.model}${t.version === undefined ? '' : `:${t.version}`}`;
  }
}

function retryable(err: unknown): boolean {
  return !isMpError(err) || !NOT_RETRIED.has(err.code);
}

function errorLabel(err: unknown): string {
  if (err instanceof DeadlineError) return 'timeout';
  return isMpError(err) ? err.code : 'error';
}

class DeadlineError extends MpError {}

/** Stops waiting after `timeoutMs`; a request still queued is cancelled, one already running finishes unseen. */
function inferWithDeadline(ctx: ServingContext, inputs: TensorMap, options: InferOptions, timeoutMs: number): Promise<TensorMap> {
  const aborter = new AbortController();
  // The caller's cancellation (the client hung up) cancels this attempt too.
  const outer = options.signal;
  const forward = () => aborter.abort();
  if (outer?.aborted) aborter.abort();
  else outer?.addEventListener('abort', forward, { once: true });
  return new Promise<TensorMap>((resolve, reject) => {
    const timer = setTimeout(() => {
      aborter.abort();
      reject(new DeadlineError('MP_QUEUE_TIMEOUT', `model '${ctx.name}' version ${ctx.version}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    ctx.infer(inputs, { ...options, signal: aborter.signal }).then(resolve, reject).finally(() => {
      clearTimeout(timer);
      outer?.removeEventListener('abort', forward);
    });
  });
}

function withOutput(options: InferOptions, name: string): InferOptions {
  if (!options.outputs || options.outputs.includes(name)) return options;
  return { ...options, outputs: [...options.outputs, name] };
}
