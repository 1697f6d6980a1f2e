import { MpError } from '../errors.js';

/** Parses a raw JSON request body (the server hands every route a Buffer). */
export function parseJsonBody(body: unknown): unknown {
  if (!Buffer.isBuffer(body) || body.byteLength === 0) throw new MpError('MP_INVALID_ARG', 'the request has no JSON body');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new MpError('MP_INVALID_ARG', `request body is not valid JSON: ${(err as Error).message}`);
  }
}
