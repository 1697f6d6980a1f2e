import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isMpError } from '../errors.js';

/**
 * The v2 error shape, `{"error": "..."}`, for every failure: MpErrors with their status, fastify's
 * own 4xx (body too large, bad content) with theirs, anything else a logged 500.
 */
export function v2ErrorHandler(err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  if (isMpError(err)) {
    if (err.retryAfterSeconds !== undefined) void reply.header('Retry-After', String(err.retryAfterSeconds));
    if (err.code === 'MP_UNAUTHORIZED') void reply.header('WWW-Authenticate', 'Bearer');
    void reply.code(err.status).type('application/json').send({ error: err.message });
    return;
  }
  const status = (err as FastifyError).statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    void reply.code(status).type('application/json').send({ error: err.message });
    return;
  }
  request.log.error({ err }, 'unhandled error');
  void reply.code(500).type('application/json').send({ error: 'internal server error' });
}
