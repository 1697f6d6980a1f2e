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
import { registerAdminAuth } from './server/admin/admin-auth.js';
import { MpError } from './errors.js';
import { rolloutMetrics, routingMetrics } from './telemetry/routing-metrics.js';

export interface ControlPlaneOptions {
  readonly repository: string;
  readonly mode: ModelControlMode;
  readonly pollIntervalMs: number;
  /** Where control.db (rollouts, admin policies) lives; ':memory:' keeps nothing across restarts. */
  readonly dataDir: string;
  /** Bearer token for repository and admin endpoints; undefined = loopback clients only. */
  readonly adminToken: string | undefined;
  /** Require the token on model (inference) endpoints too. */
  readonly authInference: boolean;
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

/** Refuses contradictory security options; call before anything is loaded. */
export function checkAuthOptions(adminToken: string | undefined, authInference: boolean): void {
  if (authInference && !adminToken) throw new MpError('MP_INVALID_ARG', '--auth-inference needs --admin-token (or MODELPLANE_ADMIN_TOKEN)');
  if (adminToken !== undefined && adminToken.length < 16) throw new MpError('MP_INVALID_ARG', 'the admin token must be at least 16 characters');
}

export function createControlPlane(manager: ModelManager, metrics: Registry, log: LifecycleLogger, options: ControlPlaneOptions): ControlPlane {
  checkAuthOptions(options.adminToken, options.authInference);
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
      registerAdminAuth(server, { token: options.adminToken, inference: options.authInference });
      registerRepositoryRoutes(server, controller);
      registerTrafficRoutes(server, manager, router, { store, onChange: (model) => rollouts.release(model) });
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
      if (options.adminToken) {
        log.info({ auth: 'bearer', inference: options.authInference }, `repository and admin endpoints${options.authInference ? ' and model endpoints' : ''} require a bearer token`);
      } else {
        log.warn({ auth: 'loopback' }, 'no admin token configured: repository and admin endpoints answer only clients on loopback (set --admin-token or MODELPLANE_ADMIN_TOKEN)');
      }
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
