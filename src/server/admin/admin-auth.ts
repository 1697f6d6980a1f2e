import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { MpError } from '../../errors.js';

export interface AdminAuthOptions {
  /** Bearer token required on repository and admin endpoints; undefined = loopback clients only. */
  readonly token: string | undefined;
  /** Also require the token on model endpoints (metadata, infer). Needs a token. */
  readonly inference: boolean;
}

const ADMIN_PREFIXES = ['/v2/repository/', '/v2/admin/'];
const INFERENCE_PREFIXES = ['/v2/models/'];

/**
 * Guards the control surface. With a token: `Authorization: Bearer <token>` (compared in constant
 * time) on repository and admin routes, and on model routes when `inference` is set. Without one:
 * those routes answer only clients on a loopback address, whatever address the server listens on.
 * The check runs on the matched route pattern, so encodings of a path cannot slip past it.
 */
export function registerAdminAuth(app: FastifyInstance, options: AdminAuthOptions): void {
  const expected = options.token === undefined ? undefined : digest(options.token);
  app.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions.url ?? request.url;
    const admin = ADMIN_PREFIXES.some((p) => route.startsWith(p));
    const inference = options.inference && INFERENCE_PREFIXES.some((p) => route.startsWith(p));
    if (!admin && !inference) return done();
    if (expected) return done(bearerMatches(request, expected) ? undefined : new MpError('MP_UNAUTHORIZED', `${route}: needs Authorization: Bearer <admin token>`));
    if (admin && !isLoopback(request.socket.remoteAddress)) {
      return done(new MpError('MP_FORBIDDEN', `${route}: without an admin token the repository and admin endpoints answer only on loopback; start with --admin-token (or MODELPLANE_ADMIN_TOKEN)`));
    }
    done();
  });
}

function bearerMatches(request: FastifyRequest, expected: Buffer): boolean {
  const header = request.headers.authorization;
  const m = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m !== null && timingSafeEqual(digest(m[1]!), expected);
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}
