import { MpError, type ErrorCode } from '../errors.js';

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'MP_INVALID_ARG', 401: 'MP_UNAUTHORIZED', 403: 'MP_FORBIDDEN', 404: 'MP_NOT_FOUND',
  409: 'MP_CONFLICT', 501: 'MP_UNSUPPORTED', 503: 'MP_MODEL_NOT_READY',
};

export interface AdminClientOptions {
  /** Server base URL, e.g. http://127.0.0.1:8000 */
  readonly url: string;
  /** Bearer token for the repository and admin endpoints, if the server requires one. */
  readonly token?: string | undefined;
}

/** The CLI's view of a running server's repository and admin API: JSON in, JSON out, errors as MpError. */
export class AdminClient {
  private readonly base: string;

  constructor(private readonly options: AdminClientOptions) {
    let parsed: URL;
    try {
      parsed = new URL(options.url);
    } catch {
      throw new MpError('MP_INVALID_ARG', `--url: '${options.url}' is not a URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new MpError('MP_INVALID_ARG', `--url: '${options.url}' must be http(s)`);
    this.base = options.url.replace(/\/+$/, '');
  }

  async request<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    } catch (err) {
      throw new MpError('MP_NOT_FOUND', `cannot reach ${this.base}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch {
      throw new MpError('MP_INTERNAL', `${method} ${path}: status ${res.status}, body is not JSON: ${text.slice(0, 200)}`);
    }
    if (!res.ok) {
      const message = typeof (json as { error?: unknown } | null)?.error === 'string' ? (json as { error: string }).error : text.slice(0, 200);
      throw new MpError(CODE_BY_STATUS[res.status] ?? 'MP_INTERNAL', `${method} ${path}: ${res.status}: ${message}`);
    }
    return json as T;
  }
}
