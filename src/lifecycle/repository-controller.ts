import { MpError } from '../errors.js';
import { MODEL_NAME_PATTERN } from '../config/model-config.js';
import { scanModel, scanRepository } from '../repository/model-repository.js';
import { diffModel, diffSnapshots, fingerprintModel, type ModelChange, type ModelFingerprint } from '../repository/repository-diff.js';
import type { LifecycleLogger, ModelManager, VersionStatus } from './model-manager.js';

/** Triton's model control modes. */
export type ModelControlMode = 'none' | 'poll' | 'explicit';

export interface RepositoryControllerOptions {
  readonly mode: ModelControlMode;
  /** How often `poll` mode rescans the repository, in ms. */
  readonly pollIntervalMs: number;
}

/**
 * Keeps what serves in step with the repository on disk: in `poll` mode on a timer, in `explicit`
 * mode when asked (load / unload). Each change loads and warms new versions beside the serving ones,
 * swaps atomically, then drains and frees what was replaced. Operations run one at a time.
 *
 * A version dropped by the version policy (e.g. `latest: 1` when a newer one appears) is retired
 * only once some selected version is READY, so a broken new version never replaces a working one.
 */
export class RepositoryController {
  private snapshot = new Map<string, ModelFingerprint>();
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly manager: ModelManager,
    private readonly repositoryDir: string,
    private readonly options: RepositoryControllerOptions,
    private readonly logger: LifecycleLogger,
  ) {}

  get mode(): ModelControlMode {
    return this.options.mode;
  }

  /** Records what the manager loaded at startup as the baseline, and starts polling in `poll` mode. */
  async start(): Promise<void> {
    for (const entry of this.manager.entries()) this.snapshot.set(entry.name, await fingerprintModel(entry));
    if (this.options.mode === 'poll') this.schedulePoll();
  }

  /** Stops polling and waits for the operation in progress. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.chain.catch(() => undefined);
  }

  private schedulePoll(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.poll().catch((err: unknown) => this.logger.error({ err }, 'repository poll failed')).finally(() => this.schedulePoll());
    }, this.options.pollIntervalMs);
    this.timer.unref();
  }

  /** One poll: rescans the whole repository and applies the difference. */
  poll(): Promise<void> {
    return this.serialize(async () => {
      const scan = await scanRepository(this.repositoryDir);
      const next = new Map<string, ModelFingerprint>();
      for (const entry of scan.models) next.set(entry.name, await fingerprintModel(entry));
      const diff = diffSnapshots(this.snapshot, next);
      for (const model of diff.removed) {
        this.logger.info({ model }, `model ${model}: removed from the repository, unloading`);
        await this.manager.removeModel(model);
        this.snapshot.delete(model);
      }
      for (const change of diff.changed) {
        await this.apply(change, next.get(change.model)!);
      }
    });
  }

  /** Explicit load: (re)reads one model from disk, optionally with a config override, and loads what changed. */
  load(model: string, configOverride?: Record<string, unknown>): Promise<VersionStatus[]> {
    this.requireExplicit('load');
    checkModelName(model);
    return this.serialize(async () => {
      const scan = await scanRepository(this.repositoryDir);
      if (!scan.models.some((m) => m.name === model)) throw new MpError('MP_MODEL_NOT_FOUND', `model '${model}' is not in the repository`);
      const entry = await scanModel(scan.root, model, configOverride);
      const now = await fingerprintModel(entry);
      // An override always reloads: it may equal the file and still be what the caller wants applied.
      const change = configOverride ? diffModel(undefined, now) : diffModel(this.snapshot.get(model), now);
      if (change) await this.apply(change, now);
      return this.manager.versionsOf(model);
    });
  }

  /** Explicit unload: drains and frees every version; the model stays listed as UNAVAILABLE ('unloaded'). */
  unload(model: string): Promise<VersionStatus[]> {
    this.requireExplicit('unload');
    checkModelName(model);
    return this.serialize(async () => {
      if (!this.manager.has(model)) throw new MpError('MP_MODEL_NOT_FOUND', `unknown model '${model}'`);
      for (const v of this.manager.versionsOf(model)) await this.manager.retireVersion(model, v.version, true);
      this.snapshot.delete(model);
      this.logger.info({ model }, `model ${model}: unloaded`);
      return this.manager.versionsOf(model);
    });
  }

  private async apply(change: ModelChange, now: ModelFingerprint): Promise<void> {
    const { model } = change;
    this.manager.setEntry(change.entry);
    for (const version of change.load) {
      const status = await this.manager.loadVersion(model, version);
      const line = {
        model, version, state: status.state,
        ...(status.reason ? { reason: status.reason } : {}),
        ...(status.hugePageBytes ? { huge_pages_mib: Math.round(status.hugePageBytes / 2 ** 20) } : {}),
      };
      if (status.state === 'READY' && !status.reason) this.logger.info(line, `model ${model} version ${version}: READY`);
      else this.logger.warn(line, `model ${model} version ${version}: ${status.state} (${status.reason ?? ''})`);
    }
    const selected = new Set(change.entry.versions);
    const onDisk = new Set(change.entry.onDisk ?? change.entry.versions);
    const servesSelected = this.manager.versionsOf(model).some((v) => selected.has(v.version) && v.state === 'READY');
    for (const v of this.manager.versionsOf(model)) {
      if (selected.has(v.version)) continue;
      // Gone from disk: always retire. Only dropped by the policy: retire once a selected version serves.
      const goneFromDisk = !onDisk.has(v.version);
      if (!goneFromDisk && !servesSelected && v.state === 'READY') continue;
      this.logger.info({ model, version: v.version }, `model ${model} version ${v.version}: retiring (draining in-flight requests)`);
      await this.manager.retireVersion(model, v.version, false);
    }
    this.snapshot.set(model, now);
  }

  private requireExplicit(what: string): void {
    if (this.options.mode !== 'explicit') {
      throw new MpError('MP_UNSUPPORTED', `${what} is only available with --model-control-mode explicit (the server runs in '${this.options.mode}' mode)`);
    }
  }

  private serialize<T>(work: () => Promise<T>): Promise<T> {
    const run = this.chain.then(work, work);
    this.chain = run.catch(() => undefined);
    return run;
  }
}

function checkModelName(model: string): void {
  if (!MODEL_NAME_PATTERN.test(model) || model.includes('..')) throw new MpError('MP_INVALID_ARG', `model name '${model}' is not valid`);
}
