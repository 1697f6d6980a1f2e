import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { MpError, isMpError, type ErrorCode } from '../../errors.js';
import { describeIssues } from '../../config/zod-issues.js';
import type { ModelManager } from '../../lifecycle/model-manager.js';
import type { ServingContext } from '../../lifecycle/serving-context.js';
import { MAX_INPUTS_PER_REQUEST, embedTexts, textConfigOf } from '../../embeddings/embed-texts.js';
import { parseJsonBody } from '../json-body.js';
import { ClientHangup } from '../client-abort.js';

/** Hugging Face TEI's `POST /embed` body; `model` is Modelplane's addition (TEI serves one model). */
const EmbedBody = z.strictObject({
  inputs: z.union([z.string(), z.array(z.string())]),
  normalize: z.boolean().default(true),
  truncate: z.boolean().default(false),
  truncation_direction: z.enum(['Right', 'right']).default('Right'),
  prompt_name: z.null().optional(),
  dimensions: z.int().positive().optional(),
  model: z.string().min(1).max(256).optional(),
});

/** TEI's statuses and error types: 413 too many inputs, 422 validation, 424 backend, 429 overloaded, 503 unhealthy. */
const TEI_STATUS: Partial<Record<ErrorCode, [number, string]>> = {
  MP_INVALID_ARG: [422, 'Validation'],
  MP_PAYLOAD_TOO_LARGE: [413, 'Validation'],
  MP_MODEL_NOT_FOUND: [404, 'Validation'],
  MP_OVERLOADED: [429, 'Overloaded'],
  MP_BACKEND: [424, 'Backend'],
  MP_MODEL_NOT_READY: [503, 'Unhealthy'],
  MP_SHUTTING_DOWN: [503, 'Unhealthy'],
  MP_QUEUE_TIMEOUT: [503, 'Unhealthy'],
};

function teiErrorHandler(err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  if (isMpError(err)) {
    const [status, type] = TEI_STATUS[err.code] ?? [err.status, err.status >= 500 ? 'Backend' : 'Validation'];
    if (err.retryAfterSeconds !== undefined) void reply.header('Retry-After', String(err.retryAfterSeconds));
    void reply.code(status).type('application/json').send({ error: err.message, error_type: type });
    return;
  }
  const status = (err as FastifyError).statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    void reply.code(status).type('application/json').send({ error: err.message, error_type: 'Validation' });
    return;
  }
  request.log.error({ err }, 'unhandled error');
  void reply.code(500).type('application/json').send({ error: 'internal server error', error_type: 'Backend' });
}

/** The named model, or the only text-embedding model when the body names none. */
function pickModel(manager: ModelManager, name: string | undefined): ServingContext {
  if (name !== undefined) return manager.resolve(name);
  const names = [...new Set(manager.readyContexts().filter((c) => c.config.text_embedding).map((c) => c.name))];
  if (names.length !== 1) {
    throw new MpError('MP_INVALID_ARG', names.length === 0 ? 'no text-embedding model is ready' : `several text-embedding models are served (${names.join(', ')}): name one in 'model'`);
  }
  return manager.resolve(names[0]!);
}

const utf8 = new TextEncoder();

/** TEI-compatible `POST /embed`, for clients migrating from text-embeddings-inference. */
export function registerTeiRoutes(app: FastifyInstance, manager: ModelManager): void {
  void app.register(async (scope) => {
    scope.setErrorHandler(teiErrorHandler);
    scope.post('/embed', async (request: FastifyRequest, reply: FastifyReply) => {
      const parsed = EmbedBody.safeParse(parseJsonBody(request.body));
      if (!parsed.success) throw new MpError('MP_INVALID_ARG', `invalid embed request: ${describeIssues(parsed.error)}`);
      const body = parsed.data;
      const texts = typeof body.inputs === 'string' ? [body.inputs] : body.inputs;
      if (texts.length === 0) throw new MpError('MP_INVALID_ARG', '`inputs` cannot be empty');
      if (texts.length > MAX_INPUTS_PER_REQUEST) {
        throw new MpError('MP_PAYLOAD_TOO_LARGE', `batch size ${texts.length} > maximum allowed batch size ${MAX_INPUTS_PER_REQUEST}`);
      }
      const empty = texts.findIndex((t) => t.length === 0);
      if (empty >= 0) throw new MpError('MP_INVALID_ARG', `inputs[${empty}] is empty`);
      const ctx = pickModel(manager, body.model);
      if (!body.normalize && textConfigOf(ctx).normalize) {
        throw new MpError('MP_INVALID_ARG', `model '${ctx.name}' always normalises its vectors (text_embedding.normalize); normalize=false is not available`);
      }
      const result = await embedTexts(ctx, texts.map((t) => utf8.encode(t)), { truncate: body.truncate, dimensions: body.dimensions, signal: new ClientHangup(reply) });
      void reply.type('application/json');
      return result.vectors.map((v) => Array.from(v));
    });
  });
}
