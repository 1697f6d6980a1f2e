import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { RoutingSink } from '../routing/routing-sink.js';
import type { RolloutSink } from '../routing/rollout-controller.js';

/** Geometric latency buckets, 0.5 ms to ~8 s. */
const LATENCY_BUCKETS = Array.from({ length: 15 }, (_, i) => 0.0005 * 2 ** i);

/**
 * Prometheus metrics for routing decisions, labelled `model` (the routed model), `version` (the
 * version that answered; `other:3` when another model answered) and `route`.
 */
export function routingMetrics(registry: Registry): RoutingSink {
  const requests = new Counter({
    name: 'modelplane_routing_requests_total',
    help: 'Routed inference steps by the version that answered, how it was chosen (route) and outcome.',
    labelNames: ['model', 'version', 'route', 'outcome'],
    registers: [registry],
  });
  const latencyHistogram = (name: string, help: string) =>
    new Histogram({ name, help, labelNames: ['model', 'version', 'route'], buckets: LATENCY_BUCKETS, registers: [registry] });
  const latency = latencyHistogram('modelplane_routing_request_duration_seconds', 'Latency of routed inference steps, by version and route.');
  const fallbacks = new Counter({
    name: 'modelplane_routing_fallbacks_total',
    help: 'Requests answered further down a fallback chain, by the step that failed (from), the next one (to) and why.',
    labelNames: ['model', 'from', 'to', 'reason'],
    registers: [registry],
  });
  const shadows = new Counter({
    name: 'modelplane_routing_shadow_requests_total',
    help: 'Mirrored requests by candidate version and result: agree, disagree, incomparable or error.',
    labelNames: ['model', 'version', 'route', 'result'],
    registers: [registry],
  });
  const shadowLatency = latencyHistogram('modelplane_routing_shadow_duration_seconds', 'Latency of mirrored requests on the shadow candidate.');
  const shadowDropped = new Counter({
    name: 'modelplane_routing_shadow_dropped_total',
    help: 'Mirrors not sent because max_in_flight mirrors were running.',
    labelNames: ['model'],
    registers: [registry],
  });
  const cascade = new Counter({
    name: 'modelplane_routing_cascade_requests_total',
    help: 'Cascaded requests by the step that answered (escalated = answered after step 0).',
    labelNames: ['model', 'step', 'escalated'],
    registers: [registry],
  });
  const cost = new Counter({
    name: 'modelplane_routing_cascade_cost_units_total',
    help: 'Cascade cost in the policy\'s units: spent, and baseline (always the last step). Saved = baseline - spent.',
    labelNames: ['model', 'kind'],
    registers: [registry],
  });
  const versionLabel = (model: string, target: string, version: number) => (target === model ? String(version) : `${target}:${version}`);
  return {
    request(model, target, version, route, ok, seconds) {
      const v = versionLabel(model, target, version);
      requests.inc({ model, version: v, route, outcome: ok ? 'success' : 'failure' });
      if (ok) latency.observe({ model, version: v, route }, seconds);
    },
    fallback(model, from, to, reason) {
      fallbacks.inc({ model, from, to, reason });
    },
    shadow(model, target, version, ok, seconds, agreed) {
      const v = versionLabel(model, target, version);
      shadows.inc({ model, version: v, route: 'shadow', result: !ok ? 'error' : agreed === undefined ? 'incomparable' : agreed ? 'agree' : 'disagree' });
      if (ok) shadowLatency.observe({ model, version: v, route: 'shadow' }, seconds);
    },
    shadowDropped(model) {
      shadowDropped.inc({ model });
    },
    cascade(model, step, spent, baseline) {
      cascade.inc({ model, step: String(step), escalated: step > 0 ? 'true' : 'false' });
      cost.inc({ model, kind: 'spent' }, spent);
      cost.inc({ model, kind: 'baseline' }, baseline);
    },
  };
}

/** Rollout transitions (started, advanced, completed, rolled_back, aborted) and the candidate's share now. */
export function rolloutMetrics(registry: Registry): RolloutSink {
  const transitions = new Counter({
    name: 'modelplane_rollout_transitions_total',
    help: 'Canary rollout transitions by kind; rolled_back counts automatic rollbacks on an SLO breach.',
    labelNames: ['model', 'kind'],
    registers: [registry],
  });
  const percent = new Gauge({
    name: 'modelplane_rollout_candidate_percent',
    help: 'Share of traffic the rollout gives its candidate now (0 after a rollback).',
    labelNames: ['model'],
    registers: [registry],
  });
  return {
    transition(model, kind, candidatePercent) {
      transitions.inc({ model, kind });
      percent.set({ model }, candidatePercent);
    },
  };
}
