import type { TrafficPolicy } from '../config/traffic-policy.js';
import { CompiledRoute, type ContextResolver } from './compiled-route.js';
import { NOOP_ROUTING_SINK, type RoutingSink } from './routing-sink.js';

/** Where the router finds a model's policy from its config (ModelManager's entries). */
export interface PolicySource extends ContextResolver {
  configPolicy(model: string): TrafficPolicy | undefined;
}

export type SplitTargets = readonly { version: number; weight: number }[];

interface CacheEntry {
  readonly admin: TrafficPolicy | undefined;
  readonly config: TrafficPolicy | undefined;
  readonly override: SplitTargets | undefined;
  readonly route: CompiledRoute | undefined;
}

/**
 * Applies traffic policies to requests that name no version. A model's policy is the one set through
 * the admin API, else the one in its config; a running rollout replaces its split. Each combination
 * is compiled once; a model with no policy gets no route at all, so its requests go straight to the
 * highest READY version as before.
 */
export class TrafficRouter {
  private readonly admin = new Map<string, TrafficPolicy>();
  private readonly overrides = new Map<string, SplitTargets>();
  private readonly cache = new Map<string, CacheEntry>();

  constructor(
    private readonly source: PolicySource,
    private readonly sink: RoutingSink = NOOP_ROUTING_SINK,
    private readonly random: () => number = Math.random,
  ) {}

  /** The compiled route for a request, or undefined when it goes straight to a version (explicit version or no policy). */
  route(model: string, version: string | undefined): CompiledRoute | undefined {
    if (version !== undefined && version !== '') return undefined; // an explicit version bypasses the policy
    const admin = this.admin.get(model);
    const config = admin ? undefined : this.source.configPolicy(model);
    const override = this.overrides.get(model);
    if (!admin && !config && !override) return undefined;
    const hit = this.cache.get(model);
    if (hit && hit.admin === admin && hit.config === config && hit.override === override) return hit.route;
    const policy = effectivePolicy(admin ?? config, override);
    const route = policy ? new CompiledRoute(model, policy, this.source, this.sink, this.random) : undefined;
    this.cache.set(model, { admin, config, override, route });
    return route;
  }

  /** The policy requests to `model` follow now (after any rollout split), or undefined. */
  effective(model: string): TrafficPolicy | undefined {
    return this.route(model, undefined)?.policy;
  }

  /** The admin API's policy; undefined falls back to the config's. */
  setPolicy(model: string, policy: TrafficPolicy | undefined): void {
    if (policy) this.admin.set(model, policy);
    else this.admin.delete(model);
  }

  adminPolicy(model: string): TrafficPolicy | undefined {
    return this.admin.get(model);
  }

  /** A rollout's weights, replacing the policy's split; undefined removes it. */
  setSplitOverride(model: string, targets: SplitTargets | undefined): void {
    if (targets) this.overrides.set(model, targets);
    else this.overrides.delete(model);
  }
}

function effectivePolicy(base: TrafficPolicy | undefined, override: SplitTargets | undefined): TrafficPolicy | undefined {
  if (!override) return base;
  return { ...base, split: { targets: [...override], sticky: base?.split?.sticky ?? true } };
}
