import type { FastifyInstance, FastifyRequest } from 'fastify';
import { MpError } from '../../errors.js';
import { TrafficPolicySchema, type TrafficPolicy } from '../../config/traffic-policy.js';
import type { ModelManager } from '../../lifecycle/model-manager.js';
import type { TrafficRouter } from '../../routing/traffic-router.js';
import { parseJsonBody } from './json-body.js';

type ModelParams = { Params: { model: string } };

/** Persists admin policies; the router alone keeps them only until a restart. */
export interface PolicyStore {
  savePolicy(model: string, policy: TrafficPolicy | undefined): void;
}

export interface TrafficRouteOptions {
  readonly store?: PolicyStore;
  /** Called after a policy change (a finished rollout's weights give way to the new policy). */
  readonly onChange?: (model: string) => void;
}

/**
 * `GET/PUT/DELETE /v2/admin/models/{m}/traffic`: the policy requests to `m` without a version
 * follow. PUT replaces the config's policy (validated like a config); DELETE returns to it.
 */
export function registerTrafficRoutes(app: FastifyInstance, manager: ModelManager, router: TrafficRouter, options: TrafficRouteOptions = {}): void {
  const { store, onChange } = options;
  const known = (model: string) => {
    if (!manager.has(model)) throw new MpError('MP_MODEL_NOT_FOUND', `unknown model '${model}'`);
  };
  const describe = (model: string) => {
    const admin = router.adminPolicy(model);
    const config = manager.configPolicy(model);
    return { model, source: admin ? 'admin' : config ? 'config' : 'none', policy: router.effective(model) ?? null, admin: admin ?? null, config: config ?? null };
  };

  app.get('/v2/admin/models/:model/traffic', async (request: FastifyRequest<ModelParams>) => {
    known(request.params.model);
    return describe(request.params.model);
  });

  app.put('/v2/admin/models/:model/traffic', async (request: FastifyRequest<ModelParams>) => {
    const { model } = request.params;
    known(model);
    const policy = parseJsonBody(request.body, TrafficPolicySchema, 'traffic policy');
    store?.savePolicy(model, policy);
    router.setPolicy(model, policy);
    onChange?.(model);
    return describe(model);
  });

  app.delete('/v2/admin/models/:model/traffic', async (request: FastifyRequest<ModelParams>) => {
    const { model } = request.params;
    known(model);
    store?.savePolicy(model, undefined);
    router.setPolicy(model, undefined);
    onChange?.(model);
    return describe(model);
  });
}
