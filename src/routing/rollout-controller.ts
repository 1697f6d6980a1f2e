import { MpError } from '../errors.js';
import { RolloutSpecSchema, type RolloutSpec } from '../config/rollout-spec.js';
import type { LifecycleLogger, VersionStatus } from '../lifecycle/model-manager.js';
import { NOOP_ROUTING_SINK, type RoutingSink } from './routing-sink.js';
import type { RolloutEvent, RolloutRecord, RolloutStore } from './rollout-store.js';
import { StepWindow } from './step-window.js';
import type { TrafficRouter } from './traffic-router.js';

/** Rollout transitions for metrics; app.ts plugs in Prometheus. Must not throw. */
export interface RolloutSink {
  transition(model: string, kind: string, candidatePercent: number): void;
}
export const NOOP_ROLLOUT_SINK: RolloutSink = { transition() {} };

/** What a rollout needs to know of the models: which versions exist and are READY (ModelManager is one). */
export interface VersionSource {
  versionsOf(model: string): VersionStatus[];
}

export interface RolloutStatus {
  readonly current: (RolloutRecord & { readonly window?: object }) | null;
  readonly history: readonly (RolloutRecord & { readonly events: readonly RolloutEvent[] })[];
}

/**
 * Runs canary rollouts: sets the split between incumbent and candidate, watches the candidate's
 * requests (it is a RoutingSink the router reports to), advances a step when it has enough requests
 * and time within the SLO, and on any breach sends the candidate to 0 % at once. Every transition is
 * logged, counted and stored, so the history survives a restart and a running rollout resumes.
 */
export class RolloutController {
  private readonly running = new Map<string, { record: RolloutRecord; window: StepWindow }>();
  private ticker: NodeJS.Timeout | undefined;
  private stopped = false;
  /** What the router reports to; only the candidate's own requests and comparisons count. */
  readonly sink: RoutingSink = {
    ...NOOP_ROUTING_SINK,
    request: (model, target, version, _route, ok, seconds) => {
      const r = this.running.get(model);
      if (!r || target !== model || version !== r.record.candidate) return;
      r.window.record(ok, seconds * 1000);
      this.evaluate(r);
    },
    shadow: (model, target, version, ok, _seconds, agreed) => {
      const r = this.running.get(model);
      if (!r || target !== model || version !== r.record.candidate) return;
      if (!ok) r.window.record(false, 0);
      else if (agreed !== undefined) r.window.compare(agreed);
      this.evaluate(r);
    },
  };

  constructor(
    private readonly manager: VersionSource,
    private readonly router: TrafficRouter,
    private readonly store: RolloutStore,
    private readonly logger: LifecycleLogger,
    private readonly metrics: RolloutSink = NOOP_ROLLOUT_SINK,
    private readonly now: () => number = Date.now,
  ) {}

  /** Re-applies every model's newest rollout (weights of finished ones, running ones resume at their step) and starts the step timer. */
  restore(): void {
    for (const r of this.store.latestPerModel()) {
      if (r.state !== 'running' && this.store.events(r.id).at(-1)?.kind === 'released') continue;
      this.applyWeights(r);
      if (r.state === 'running') {
        const resumed = { ...r, stepStartedMs: this.now(), updatedMs: this.now() };
        this.store.update(resumed, { atMs: this.now(), kind: 'resumed', percent: r.percent, detail: 'server restarted: the step starts again' });
        this.running.set(r.model, { record: resumed, window: new StepWindow() });
        this.logger.info({ model: r.model, rollout: r.id, percent: r.percent }, `rollout ${r.id} of ${r.model}: resumed at ${r.percent}%`);
      }
    }
    this.ticker = setInterval(() => {
      for (const r of this.running.values()) this.evaluate(r);
    }, 250);
    this.ticker.unref();
  }

  /** After this, reports are ignored (the store may be closing). */
  stop(): void {
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
  }

  start(model: string, raw: unknown): RolloutRecord {
    const parsed = RolloutSpecSchema.safeParse(raw);
    if (!parsed.success) throw new MpError('MP_INVALID_ARG', `invalid rollout: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
    const spec = parsed.data;
    if (this.running.has(model)) throw new MpError('MP_CONFLICT', `model '${model}' already has a running rollout (${this.running.get(model)!.record.id}); abort it first`);
    const versions = this.manager.versionsOf(model);
    const ready = (v: number) => versions.some((s) => s.version === v && s.state === 'READY');
    if (!ready(spec.candidate)) throw new MpError('MP_MODEL_NOT_READY', `model '${model}': candidate version ${spec.candidate} is not READY`);
    const incumbent = spec.incumbent ?? versions.find((s) => s.state === 'READY' && s.version !== spec.candidate)?.version;
    if (incumbent === undefined || !ready(incumbent) || incumbent === spec.candidate) {
      throw new MpError('MP_MODEL_NOT_READY', `model '${model}': no READY incumbent version beside candidate ${spec.candidate}`);
    }
    const t = this.now();
    const record = this.store.create({
      model, candidate: spec.candidate, incumbent, spec, state: 'running', step: 0, percent: spec.steps[0]!,
      stepStartedMs: t, startedMs: t, updatedMs: t, reason: null,
    });
    this.running.set(model, { record, window: new StepWindow() });
    this.applyWeights(record);
    this.report(record, 'started', `candidate ${spec.candidate} at ${record.percent}% against incumbent ${incumbent}`);
    return record;
  }

  /** Operator abort: the candidate goes to 0 % at once. */
  abort(model: string, reason = 'aborted by operator'): RolloutRecord {
    const r = this.running.get(model);
    if (!r) throw new MpError('MP_NOT_FOUND', `model '${model}' has no running rollout`);
    return this.finish(r.record, 'aborted', reason);
  }

  /**
   * A finished rollout keeps its weights (a rolled-back candidate must not become the default again
   * by being the highest version) until the operator sets or clears the model's traffic policy: then
   * the policy rules again. Does nothing while a rollout runs.
   */
  release(model: string): void {
    if (this.running.has(model)) return;
    const last = this.store.history(model)[0];
    this.router.setSplitOverride(model, undefined);
    if (!last || this.store.events(last.id).at(-1)?.kind === 'released') return;
    const t = this.now();
    this.store.update({ ...last, updatedMs: t }, { atMs: t, kind: 'released', percent: last.percent, detail: 'the traffic policy was changed: the rollout\'s weights no longer apply' });
  }

  status(model: string): RolloutStatus {
    const r = this.running.get(model);
    const current = r
      ? { ...r.record, window: { requests: r.window.requests, errors: r.window.errors, error_rate: r.window.errorRate(), p99_ms: r.window.p99Ms(), compared: r.window.compared, agreement: r.window.agreement() } }
      : null;
    return { current, history: this.store.history(model).map((h) => ({ ...h, events: this.store.events(h.id) })) };
  }

  /** Checks the SLO (once there are enough samples), then whether the step may advance. */
  private evaluate(r: { record: RolloutRecord; window: StepWindow }): void {
    const { record, window } = r;
    if (this.stopped || this.running.get(record.model) !== r) return;
    const slo = record.spec.slo;
    const breach = this.breach(record.spec, window);
    if (breach) {
      this.finish(record, 'rolled_back', breach);
      return;
    }
    const elapsedMs = this.now() - record.stepStartedMs;
    const enoughSamples = window.requests >= Math.max(record.spec.step_requests, slo.min_samples);
    if (!enoughSamples || elapsedMs < record.spec.step_seconds * 1000) return;
    if (slo.min_agreement !== undefined && window.compared < slo.min_samples) return;
    const next = record.step + 1;
    if (next >= record.spec.steps.length) {
      this.finish(record, 'completed', `healthy through ${record.spec.steps.join(' -> ')}%`);
      return;
    }
    const advanced: RolloutRecord = { ...record, step: next, percent: record.spec.steps[next]!, stepStartedMs: this.now(), updatedMs: this.now() };
    this.running.set(record.model, { record: advanced, window: new StepWindow() });
    this.applyWeights(advanced);
    const detail = `step ${record.step + 1} healthy (${window.requests} requests, error rate ${window.errorRate().toFixed(4)}, p99 ${window.p99Ms().toFixed(1)} ms)`;
    this.store.update(advanced, { atMs: this.now(), kind: 'advanced', percent: advanced.percent, detail });
    this.report(advanced, 'advanced', detail);
  }

  private breach(spec: RolloutSpec, w: StepWindow): string | undefined {
    const slo = spec.slo;
    if (w.requests >= slo.min_samples && w.errorRate() > slo.max_error_rate) {
      return `error rate ${w.errorRate().toFixed(4)} > ${slo.max_error_rate} over ${w.requests} candidate requests`;
    }
    // Latency is judged every 10 requests (the sort costs more than a request's bookkeeping).
    if (slo.max_p99_ms !== undefined && w.requests >= slo.min_samples && w.requests % 10 === 0) {
      const p99 = w.p99Ms();
      if (p99 > slo.max_p99_ms) return `p99 latency ${p99.toFixed(1)} ms > ${slo.max_p99_ms} ms over ${w.requests} candidate requests`;
    }
    if (slo.min_agreement !== undefined && w.compared >= slo.min_samples && w.agreement() < slo.min_agreement) {
      return `agreement with the incumbent ${w.agreement().toFixed(4)} < ${slo.min_agreement} over ${w.compared} comparisons`;
    }
    return undefined;
  }

  private finish(record: RolloutRecord, state: 'completed' | 'rolled_back' | 'aborted', reason: string): RolloutRecord {
    const done: RolloutRecord = { ...record, state, step: state === 'completed' ? record.step : -1, percent: state === 'completed' ? record.percent : 0, updatedMs: this.now(), reason };
    this.running.delete(record.model);
    this.applyWeights(done);
    this.store.update(done, { atMs: this.now(), kind: state, percent: done.percent, detail: reason });
    this.report(done, state, reason);
    return done;
  }

  /** The rollout's split replaces the policy's; comparisons mirror incumbent answers to the candidate. */
  private applyWeights(r: RolloutRecord): void {
    this.router.setSplitOverride(r.model, [
      { version: r.incumbent, weight: 100 - r.percent },
      { version: r.candidate, weight: r.percent },
    ], r.state === 'running' && r.spec.compare ? { target: { version: r.candidate }, percent: r.spec.compare.percent, output: r.spec.compare.output, compare: r.spec.compare.compare, cosine_threshold: r.spec.compare.cosine_threshold, max_in_flight: 64 } : undefined);
  }

  private report(r: RolloutRecord, kind: string, detail: string): void {
    this.metrics.transition(r.model, kind, r.percent);
    const line = { model: r.model, rollout: r.id, candidate: r.candidate, incumbent: r.incumbent, percent: r.percent, event: kind, detail };
    const msg = `rollout ${r.id} of ${r.model}: ${kind} (candidate ${r.candidate} at ${r.percent}%): ${detail}`;
    if (kind === 'rolled_back') this.logger.warn(line, msg);
    else this.logger.info(line, msg);
  }
}
