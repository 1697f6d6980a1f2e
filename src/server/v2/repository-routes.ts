import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { MpError } from '../../errors.js';
import { parseJsonBody } from '../admin/json-body.js';
import type { RepositoryController } from '../../lifecycle/repository-controller.js';
import type { VersionStatus } from '../../lifecycle/model-manager.js';

/**
 * Triton's model repository extension, load and unload. The load body may carry a config override
 * as Triton's `{"parameters": {"config": "<JSON text>"}}`, or as an object under `config`.
 */
const LoadBody = z.strictObject({
  parameters: z.object({ config: z.union([z.string(), z.record(z.string(), z.unknown())]).optional() }).optional(),
  config: z.record(z.string(), z.unknown()).optional(),
});
const UnloadBody = z.strictObject({ parameters: z.record(z.string(), z.unknown()).optional() });

export function registerRepositoryRoutes(app: FastifyInstance, controller: RepositoryController): void {
  app.post('/v2/repository/models/:model/load', async (request: FastifyRequest<{ Params: { model: string } }>) => {
    const body = parseJsonBody(request.body, LoadBody, 'load request');
    let override = body.config;
    const fromParams = body.parameters?.config;
    if (typeof fromParams === 'string') override = parseConfigText(fromParams, 'parameters.config');
    else if (fromParams) override = fromParams;
    const statuses = await controller.load(request.params.model, override);
    // A version still serving its previous load carries the failure as its reason: the load failed.
    const failed = statuses.filter((s) => s.state !== 'READY' || s.reason !== undefined);
    if (failed.length > 0) {
      throw new MpError('MP_MODEL_NOT_READY', `model '${request.params.model}' failed to load: ${describe(failed)}`);
    }
    return { name: request.params.model, versions: statuses.map(toJson) };
  });

  app.post('/v2/repository/models/:model/unload', async (request: FastifyRequest<{ Params: { model: string } }>) => {
    parseJsonBody(request.body, UnloadBody, 'unload request');
    const statuses = await controller.unload(request.params.model);
    return { name: request.params.model, versions: statuses.map(toJson) };
  });
}

function toJson(s: VersionStatus): object {
  return { version: String(s.version), state: s.state, reason: s.reason ?? '' };
}

function describe(statuses: readonly VersionStatus[]): string {
  return statuses.map((s) => `version ${s.version}: ${s.reason ?? s.state}`).join('; ');
}

function parseConfigText(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new MpError('MP_INVALID_ARG', `${what} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MpError('MP_INVALID_ARG', `${what} must be a JSON object`);
  return value as Record<string, unknown>;
}
