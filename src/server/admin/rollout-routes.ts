import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MpError } from '../../errors.js';
import type { ModelManager } from '../../lifecycle/model-manager.js';
import type { RolloutController } from '../../routing/rollout-controller.js';

type ModelParams = { Params: { model: string } };

/**
 * Canary rollouts: `POST /v2/admin/models/{m}/rollouts` starts one (the body is a RolloutSpec),
 * `GET` shows the running one with its step window and the whole history with events,
 * `POST .../rollouts/abort` sends the candidate to 0 % at once.
 */
export function registerRolloutRoutes(app: FastifyInstance, manager: ModelManager, rollouts: RolloutController): void {
  const known = (model: string) => {
    if (!manager.has(model)) throw new MpError('MP_MODEL_NOT_FOUND', `unknown model '${model}'`);
  };

  app.post('/v2/admin/models/:model/rollouts', async (request: FastifyRequest<ModelParams>, reply: FastifyReply) => {
    known(request.params.model);
    const record = rollouts.start(request.params.model, parseBody(request.body));
    void reply.code(201);
    return record;
  });

  app.get('/v2/admin/models/:model/rollouts', async (request: FastifyRequest<ModelParams>) => {
    known(request.params.model);
    return rollouts.status(request.params.model);
  });

  app.post('/v2/admin/models/:model/rollouts/abort', async (request: FastifyRequest<ModelParams>) => {
    known(request.params.model);
    return rollouts.abort(request.params.model);
  });
}

function parseBody(raw: unknown): unknown {
  if (!Buffer.isBuffer(raw) || raw.byteLength === 0) throw new MpError('MP_INVALID_ARG', 'a rollout needs a JSON body, e.g. {"candidate": 2}');
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new MpError('MP_INVALID_ARG', `rollout: request body is not valid JSON: ${(err as Error).message}`);
  }
}
