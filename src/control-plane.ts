import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { TrafficPolicySchema } from './config/traffic-policy.js';
import type { LifecycleLogger, ModelManager } from './lifecycle/model-manager.js';
import { RepositoryController, type ModelControlMode } from './lifecycle/repository-controller.js';
import { RolloutController } from './routing/rollout-controller.js';
import { RolloutStore } from './routing/rollout-store.js';
import { fanOutSink, type RoutingSink } from './routing/routing-sink.js';
import { TrafficRouter } from './routing/traffic-router.js';
import { registerRolloutRoutes } from './server/admin/rollout-routes.js';
import { registerTrafficRoutes } from './server/admin/traffic-routes.js';
import { registerRepositoryRoutes } from './server/v2/repository-routes.js';
import { rolloutMetrics, routingMetrics } from './telemetry/routing-metrics.js';

export interface ControlPlaneOptions {
  readonly repository: string;
  readonly mode: ModelControlMode;
  readonly pollIntervalMs: number;
  /** Where control.db (rollouts, admin policies) lives; ':memory:' keeps nothing across restarts. */
  readonly dataDir: string;
}

/** The model lifecycle and traffic control wired together: repository control, routing, rollouts and their store. */
export interface ControlPlane {
  readonly controller: RepositoryController;
  readonly router: TrafficRouter;
  readonly rollouts: RolloutController;
  /** Registers the repository and admin routes on the server. */
  register(server: FastifyInstance): void;
  /** Restores saved policies and rollouts, starts polling. */
  start(): Promise<void>;
  /** Stops polling and the rollout timer, waits for a load in progress, closes the store. Idempotent. */
  stop(): Promise<void>;
}

export function createControlPlane(manager: ModelManager, metrics: Registry, log: LifecycleLogger, options: ControlPlaneOptions): ControlPlane {
  // The rollout controller listens to the router it steers, so the sink list is completed below.
  const sinks: RoutingSink[] = [routingMetrics(metrics)];
  const router = new TrafficRouter(manager, fanOutSink(sinks));
  const store = new RolloutStore(options.dataDir);
  const rollouts = new RolloutController(manager, router, store, log, rolloutMetrics(metrics));
  sinks.push(rollouts.sink);
  const controller = new RepositoryController(manager, options.repository, { mode: options.mode, pollIntervalMs: options.pollIntervalMs }, log);
  let stopped = false;
  return {
    controller,
    router,
    rollouts,
    register(server) {
      registerRepositoryRoutes(server, controller);
      registerTrafficRoutes(server, manager, router, store);
      registerRolloutRoutes(server, manager, rollouts);
    },
    async start() {
      for (const saved of store.policies()) {
        const parsed = TrafficPolicySchema.safeParse(saved.policy);
        if (parsed.success) router.setPolicy(saved.model, parsed.data);
        else log.warn({ model: saved.model }, `saved traffic policy of ${saved.model} is no longer valid; ignored`);
      }
      rollouts.restore();
      await controller.start();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      rollouts.stop();
      await controller.stop();
      store.close();
    },
  };
}
