/**
 * The one error catalogue: every code Modelplane can answer with, and its HTTP status.
 * `satisfies` turns a code without a status into a compile error.
 */
export const ERRORS = {
  MP_INVALID_ARG: 400,
  MP_UNAUTHORIZED: 401, // repository/admin (optionally inference) endpoints without the configured bearer token
  MP_FORBIDDEN: 403, // admin endpoints from a non-loopback client when no token is configured
  MP_MODEL_NOT_FOUND: 404,
  MP_NOT_FOUND: 404,
  MP_PAYLOAD_TOO_LARGE: 413,
  MP_UNSUPPORTED_MEDIA_TYPE: 415,
  MP_OVERLOADED: 429,
  MP_QUEUE_FULL: 429, // pipeline backpressure: too many queued runs; send Retry-After
  MP_INTERNAL: 500,
  MP_BACKEND: 500,
  MP_UNSUPPORTED: 501,
  MP_MODEL_NOT_READY: 503,
  MP_QUEUE_TIMEOUT: 503,
  MP_SHUTTING_DOWN: 503,
  MP_CANCELLED: 499,
  MP_CONFIG_INVALID: 400,
  MP_CONFLICT: 409,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERRORS;

/** A typed error: a stable code, the HTTP status that code maps to, and a message naming the thing at fault. */
export class MpError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** For MP_OVERLOADED: how long the client should wait, sent as Retry-After. */
  readonly retryAfterSeconds: number | undefined;
  constructor(code: ErrorCode, message: string, options?: ErrorOptions & { retryAfterSeconds?: number }) {
    super(message, options);
    this.name = 'MpError';
    this.code = code;
    this.status = ERRORS[code];
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

export function isMpError(err: unknown): err is MpError {
  return err instanceof MpError;
}
