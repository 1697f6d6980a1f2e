import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isMpError, type ErrorCode } from '../../errors.js';

/** OpenAI's error `type` for an HTTP status. */
function errorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** OpenAI's own codes where one exists; otherwise Modelplane's, lower-cased. */
const OPENAI_CODES: Partial<Record<ErrorCode, string>> = {
  MP_MODEL_NOT_FOUND: 'model_not_found',
  MP_OVERLOADED: 'rate_limit_exceeded',
};

/** An error carrying the request field at fault, for OpenAI's `param`. */
export interface WithParam {
  readonly param?: string;
}

/**
 * OpenAI's error shape, `{"error": {"message", "type", "param", "code"}}`, for every failure on the
 * /v1 routes, with the same statuses as the v2 surface; anything unexpected is a logged 500.
 */
export function openaiErrorHandler(err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  const param = (err as WithParam).param ?? null;
  if (isMpError(err)) {
    if (err.retryAfterSeconds !== undefined) void reply.header('Retry-After', String(err.retryAfterSeconds));
    const code = OPENAI_CODES[err.code] ?? err.code.toLowerCase();
    void reply.code(err.status).type('application/json').send({ error: { message: err.message, type: errorType(err.status), param, code } });
    return;
  }
  const status = (err as FastifyError).statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    void reply.code(status).type('application/json').send({ error: { message: err.message, type: errorType(status), param, code: null } });
    return;
  }
  request.log.error({ err }, 'unhandled error');
  void reply.code(500).type('application/json').send({ error: { message: 'internal server error', type: 'server_error', param: null, code: null } });
}
