import type { z } from 'zod';
import { MpError } from '../../errors.js';
import { describeIssues } from '../../config/zod-issues.js';

/** Parses a raw (Buffer) JSON body against a schema; an empty body is `{}`. Errors name the field. */
export function parseJsonBody<T>(raw: unknown, schema: z.ZodType<T>, what: string): T {
  let body: unknown = {};
  if (Buffer.isBuffer(raw) && raw.byteLength > 0) {
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      throw new MpError('MP_INVALID_ARG', `${what}: request body is not valid JSON: ${(err as Error).message}`);
    }
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new MpError('MP_INVALID_ARG', `invalid ${what}: ${describeIssues(parsed.error)}`);
  return parsed.data;
}
