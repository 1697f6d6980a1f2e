import type { FastifyError, FastifyInstance } from 'fastify';
import { isMpError, MpError } from '../errors.js';

/**
 * Makes an encapsulated fastify scope take JSON bodies (whatever the parent registered: the v2 handler
 * parses raw bytes itself) and answer every failure as `{"error": "..."}`: MpErrors with their status,
 * fastify's own 4xx with theirs, anything else a logged 500.
 */
export function jsonScope(scope: FastifyInstance, what: string): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    const text = (body as string).trim();
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text) as unknown);
    } catch (err) {
      done(new MpError('MP_INVALID_ARG', `body is not valid JSON: ${(err as Error).message}`), undefined);
    }
  });
  scope.setErrorHandler((err: FastifyError, req, reply) => {
    if (isMpError(err)) {
      if (err.status === 429) void reply.header('retry-after', String(err.retryAfterSeconds ?? 1));
      return reply.code(err.status).send({ error: err.message });
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ error: err.message });
    }
    req.log.error({ err }, `${what} route failed`);
    return reply.code(500).send({ error: 'internal error' });
  });
}
