import { MpError, isMpError } from '../errors.js';
import { VERSION_PATTERN } from '../config/model-config.js';
import type { Backend } from '../runtime/backend.js';
import type { TrafficPolicy } from '../config/traffic-policy.js';
import { scanRepository, type ModelEntry } from '../repository/model-repository.js';
import type { ServingContext } from './serving-context.js';
import { loadVersion as buildContext, type LoadOptions } from './version-loader.js';

export type VersionState = 'LOADING' | 'READY' | 'UNAVAILABLE' | 'UNLOADING';

export interface VersionStatus {
  readonly model: string;
  readonly version: number;
  readonly state: VersionState;
  readonly reason: string | undefined;
  /** READY versions: bytes of the instances' weights on huge pages (onnx.huge_pages), when any. */
  readonly hugePageBytes?: number;
}

interface VersionSlot {
  state: VersionState;
  reason: string | undefined;
  context: ServingContext | undefined;
}

interface ModelSlot {
  readonly entry: ModelEntry;
  readonly versions: Map<number, VersionSlot>;
}

/** Minimal logger shape so the core does not depend on a logging library. */
export interface LifecycleLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Owns every model version's state. A version that fails to load is UNAVAILABLE with its reason;
 * it never stops the others from serving.
 */
export class ModelManager {
  private readonly models = new Map<string, ModelSlot>();

  constructor(
    private readonly repositoryDir: string,
    private readonly backends: ReadonlyMap<string, Backend>,
    private readonly logger: LifecycleLogger,
    private readonly loadOptions: LoadOptions = {},
  ) {}

  /** Scans the repository and loads every selected version. Resolves when all have settled. */
  async loadAll(): Promise<VersionStatus[]> {
    const scan = await scanRepository(this.repositoryDir);
    for (const dir of scan.skipped) {
      this.logger.warn({ dir }, `skipping '${dir}': not a valid model name`);
    }
    for (const entry of scan.models) {
      const slot: ModelSlot = { entry, versions: new Map() };
      this.models.set(entry.name, slot);
      if (entry.versions.length === 0) continue;
      for (const version of entry.versions) slot.versions.set(version, { state: 'LOADING', reason: undefined, context: undefined });
    }
    for (const slot of this.models.values()) {
      for (const [version, v] of slot.versions) await this.loadInto(slot, version, v);
    }
    return this.statuses();
  }

  private async loadInto(slot: ModelSlot, version: number, v: VersionSlot): Promise<void> {
    try {
      v.context = await this.loadContext(slot.entry, version);
      v.state = 'READY';
      v.reason = undefined;
    } catch (err) {
      v.state = 'UNAVAILABLE';
      v.reason = this.failureReason(err, slot.entry.name, version);
    }
  }

  private async loadContext(entry: ModelEntry, version: number): Promise<ServingContext> {
    if (entry.error && !entry.config) throw new MpError('MP_CONFIG_INVALID', entry.error);
    const backend = this.backends.get(entry.config!.backend);
    if (!backend) throw new MpError('MP_UNSUPPORTED', `backend '${entry.config!.backend}' is not available`);
    return buildContext(entry, version, backend, this.loadOptions);
  }

  private failureReason(err: unknown, model: string, version: number): string {
    if (!isMpError(err)) this.logger.error({ err, model, version }, 'unexpected load failure');
    return isMpError(err) ? err.message : `load failed: ${(err as Error).message}`;
  }

  /** The repository entries the manager serves from (for diffing against a new scan). */
  entries(): ModelEntry[] {
    return [...this.models.values()].map((s) => s.entry);
  }

  /** Registers a model, or replaces its entry (a new config applies to the versions loaded next). */
  setEntry(entry: ModelEntry): void {
    const slot = this.models.get(entry.name);
    this.models.set(entry.name, { entry, versions: slot?.versions ?? new Map() });
  }

  /**
   * Loads (or reloads) one version beside whatever serves now, warms it, then swaps it in atomically
   * and drains the context it replaced. A failed load never replaces a working context: the old one
   * keeps serving, and the failure is its reason. Resolves with the version's status after the swap.
   */
  async loadVersion(model: string, version: number): Promise<VersionStatus> {
    const slot = this.models.get(model);
    if (!slot) throw notFound(model);
    let v = slot.versions.get(version);
    if (!v) {
      v = { state: 'LOADING', reason: undefined, context: undefined };
      slot.versions.set(version, v);
    } else if (!v.context) {
      v.state = 'LOADING';
    }
    let next: ServingContext;
    try {
      next = await this.loadContext(slot.entry, version);
    } catch (err) {
      const reason = this.failureReason(err, model, version);
      if (v.context) v.reason = `reload failed, previous load still serving: ${reason}`;
      else {
        v.state = 'UNAVAILABLE';
        v.reason = reason;
      }
      return { model, version, state: v.state, reason: v.reason };
    }
    if (this.models.get(model)?.versions.get(version) !== v) {
      await next.unload(); // retired while it was loading
      return { model, version, state: 'UNAVAILABLE', reason: 'unloaded' };
    }
    const previous = v.context;
    v.context = next;
    v.state = 'READY';
    v.reason = undefined;
    if (previous) await previous.unload();
    return { model, version, state: 'READY', reason: undefined, hugePageBytes: next.hugePageBytes };
  }

  /**
   * Stops routing to a version, lets its in-flight requests finish, then frees it. `keep` leaves it
   * listed as UNAVAILABLE ('unloaded'); otherwise it disappears from the index.
   */
  async retireVersion(model: string, version: number, keep: boolean): Promise<void> {
    const slot = this.models.get(model);
    const v = slot?.versions.get(version);
    if (!slot || !v) return;
    const ctx = v.context;
    v.state = 'UNLOADING';
    v.context = undefined;
    if (ctx) await ctx.unload();
    v.state = 'UNAVAILABLE';
    v.reason = 'unloaded';
    if (!keep && slot.versions.get(version) === v) slot.versions.delete(version);
  }

  /** Retires every version of a model and forgets the model. */
  async removeModel(model: string): Promise<void> {
    const slot = this.models.get(model);
    if (!slot) return;
    await Promise.all([...slot.versions.keys()].map((v) => this.retireVersion(model, v, false)));
    this.models.delete(model);
  }

  statuses(): VersionStatus[] {
    const out: VersionStatus[] = [];
    for (const [model, slot] of this.models) {
      if (slot.versions.size === 0) out.push({ model, version: 0, state: 'UNAVAILABLE', reason: slot.entry.error });
      for (const [version, v] of slot.versions) out.push({ model, version, state: v.state, reason: v.reason });
    }
    return out;
  }

  /** The traffic policy in a model's config (its `traffic` section), if any. */
  configPolicy(model: string): TrafficPolicy | undefined {
    return this.models.get(model)?.entry.config?.traffic;
  }

  has(model: string): boolean {
    return this.models.has(model);
  }

  /** Versions known for a model, highest first, with their state. */
  versionsOf(model: string): VersionStatus[] {
    const slot = this.models.get(model);
    if (!slot) throw notFound(model);
    return [...slot.versions].sort((a, b) => b[0] - a[0]).map(([version, v]) => ({ model, version, state: v.state, reason: v.reason }));
  }

  /**
   * The context that serves a request: the given version, or the highest READY one.
   * Throws 404 for an unknown model or version, 503 for one that is not ready.
   */
  resolve(model: string, version?: string): ServingContext {
    const slot = this.models.get(model);
    if (!slot) throw notFound(model);
    if (version !== undefined && version !== '') {
      const n = VERSION_PATTERN.test(version) ? Number(version) : NaN;
      const v = slot.versions.get(n);
      if (!v) throw new MpError('MP_MODEL_NOT_FOUND', `model '${model}' has no version '${version}'`);
      if (v.state !== 'READY' || !v.context) throw notReady(model, n, v);
      return v.context;
    }
    let best: [number, VersionSlot] | undefined;
    for (const entry of slot.versions) {
      if (entry[1].state === 'READY' && (!best || entry[0] > best[0])) best = entry;
    }
    if (!best) {
      const reasons = [...slot.versions].map(([n, v]) => `version ${n}: ${v.reason ?? v.state}`).join('; ');
      throw new MpError('MP_MODEL_NOT_READY', `model '${model}' has no ready version${reasons ? ` (${reasons})` : slot.entry.error ? ` (${slot.entry.error})` : ''}`);
    }
    return best[1].context!;
  }

  /** Every READY version's context, for statistics. */
  readyContexts(): ServingContext[] {
    const out: ServingContext[] = [];
    for (const slot of this.models.values()) for (const v of slot.versions.values()) if (v.state === 'READY' && v.context) out.push(v.context);
    return out;
  }

  /** False while a model is loading and has no version serving yet (a hot load beside a READY version does not count). */
  allReady(): boolean {
    for (const slot of this.models.values()) {
      const states = [...slot.versions.values()].map((v) => v.state);
      if (states.includes('LOADING') && !states.includes('READY')) return false;
    }
    return true;
  }

  /** Lets in-flight work finish, then frees every instance. */
  async unloadAll(): Promise<void> {
    const work: Promise<void>[] = [];
    for (const slot of this.models.values()) {
      for (const v of slot.versions.values()) {
        if (v.state !== 'READY' || !v.context) continue;
        v.state = 'UNLOADING';
        const ctx = v.context;
        work.push(ctx.unload().then(() => {
          v.state = 'UNAVAILABLE';
          v.reason = 'unloaded';
          v.context = undefined;
        }));
      }
    }
    await Promise.all(work);
  }
}

function notFound(model: string): MpError {
  return new MpError('MP_MODEL_NOT_FOUND', `unknown model '${model}'`);
}

function notReady(model: string, version: number, v: VersionSlot): MpError {
  return new MpError('MP_MODEL_NOT_READY', `model '${model}' version ${version} is ${v.state}${v.reason ? `: ${v.reason}` : ''}`);
}
