import type { TrafficPolicy } from '../config/traffic-policy.js';
import { CompiledRoute, type ContextResolver } from './compiled-route.js';
import { NOOP_ROUTING_SINK, type RoutingSink } from './routing-sink.js';

/** Where the router finds a model's policy from its config (ModelManager's entries). */
export interface PolicySource extends ContextResolver {
  configPolicy(model: string): TrafficPolicy | undefined;
}

export type SplitTargets = readonly { version: number; weight: number }[];

/** What a rollout lays over a policy: its weights, and a comparison mirror while it runs. */
interface RolloutOverlay {
  readonly targets: SplitTargets;
  readonly shadow: TrafficPolicy['shadow'];
}

interface CacheEntry {
  readonly admin: TrafficPolicy | undefined;
  readonly config: TrafficPolicy | undefined;
  readonly override: RolloutOverlay | undefined;
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
  private readonly overrides = new Map<string, RolloutOverlay>();
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

  /** A rollout's weights, replacing the policy's split (and a shadow comparing with the candidate); undefined removes it. */
  setSplitOverride(model: string, targets: SplitTargets | undefined, shadow?: TrafficPolicy['shadow']): void {
    if (targets) this.overrides.set(model, { targets, shadow });
    else this.overrides.delete(model);
  }
}

function effectivePolicy(base: TrafficPolicy | undefined, overlay: RolloutOverlay | undefined): TrafficPolicy | undefined {
  if (!overlay) return base;
  const policy: TrafficPolicy = { ...base, split: { targets: [...overlay.targets], sticky: base?.split?.sticky ?? true } };
  if (overlay.shadow) policy.shadow = overlay.shadow;
  return policy;
}
