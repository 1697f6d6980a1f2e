import type { FastifyInstance, FastifyRequest } from 'fastify';
import { MpError } from '../../errors.js';
import { TrafficPolicySchema, isAliasPolicy, type TrafficPolicy } from '../../config/traffic-policy.js';
import { MODEL_NAME_PATTERN } from '../../config/model-names.js';
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
 * Under a name that is no model, PUT creates an alias: `/v2/models/{alias}/infer` routes to models.
 */
export function registerTrafficRoutes(app: FastifyInstance, manager: ModelManager, router: TrafficRouter, options: TrafficRouteOptions = {}): void {
  const { store, onChange } = options;
  // A name that is no model may still carry an alias policy (every target names a model).
  const known = (model: string) => {
    if (!manager.has(model) && !router.adminPolicy(model)) throw new MpError('MP_MODEL_NOT_FOUND', `unknown model or alias '${model}'`);
  };
  const describe = (model: string) => {
    const admin = router.adminPolicy(model);
    const config = manager.configPolicy(model);
    const source = !manager.has(model) ? 'alias' : admin ? 'admin' : config ? 'config' : 'none';
    return { model, source, policy: router.effective(model) ?? null, admin: admin ?? null, config: config ?? null };
  };

  app.get('/v2/admin/models/:model/traffic', async (request: FastifyRequest<ModelParams>) => {
    known(request.params.model);
    return describe(request.params.model);
  });

  app.put('/v2/admin/models/:model/traffic', async (request: FastifyRequest<ModelParams>) => {
    const { model } = request.params;
    const policy = parseJsonBody(request.body, TrafficPolicySchema, 'traffic policy');
    if (!manager.has(model)) {
      if (!MODEL_NAME_PATTERN.test(model) || model.includes('..')) throw new MpError('MP_INVALID_ARG', `'${model}' is not a valid model or alias name`);
      if (!isAliasPolicy(policy)) {
        throw new MpError('MP_MODEL_NOT_FOUND', `unknown model '${model}' (an alias policy needs a split or cascade, and every target must name a model)`);
      }
    }
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
