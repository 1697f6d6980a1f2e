/**
 * What routing reports, for metrics and for rollouts. Core code calls it; `app.ts` plugs in the
 * Prometheus implementation (src/telemetry/routing-metrics.ts). Implementations must not throw.
 * `route` is how the answer was chosen: `default`, `split`, `fallback`, `cascade`.
 */
export interface RoutingSink {
  /** One step of a routed request of `model`, answered (or failed) by `target` (usually `model` itself) at `version`. */
  request(model: string, target: string, version: number, route: string, ok: boolean, latencySeconds: number): void;
  /** The answer came from a fallback step because `from` failed with `reason` (an error code or `timeout`). */
  fallback(model: string, from: string, to: string, reason: string): void;
  /** A mirrored request finished on `version` (of model `target`); `agreed` is undefined when it failed. */
  shadow(model: string, target: string, version: number, ok: boolean, latencySeconds: number, agreed: boolean | undefined): void;
  /** A mirror was not sent because `max_in_flight` mirrors were already running. */
  shadowDropped(model: string): void;
  /** One cascaded request: the step that answered (0 = cheapest), the cost spent and the cost of always using the last step. */
  cascade(model: string, answeredStep: number, costSpent: number, costBaseline: number): void;
}

export const NOOP_ROUTING_SINK: RoutingSink = {
  request() {},
  fallback() {},
  shadow() {},
  shadowDropped() {},
  cascade() {},
};

/** Fans one report out to several sinks (metrics and the rollout controller). */
export function fanOutSink(sinks: readonly RoutingSink[]): RoutingSink {
  return {
    request: (...a) => sinks.forEach((s) => s.request(...a)),
    fallback: (...a) => sinks.forEach((s) => s.fallback(...a)),
    shadow: (...a) => sinks.forEach((s) => s.shadow(...a)),
    shadowDropped: (...a) => sinks.forEach((s) => s.shadowDropped(...a)),
    cascade: (...a) => sinks.forEach((s) => s.cascade(...a)),
  };
}
