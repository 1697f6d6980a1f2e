import { connect, type Socket } from 'node:net';

/** One answer: the status code and the body bytes (headers are not kept). */
export interface RawResponse {
  readonly status: number;
  readonly body: Buffer;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** The bytes of one HTTP/1.1 keep-alive POST, built once and sent many times. */
export function postRequestBytes(host: string, path: string, headers: Readonly<Record<string, string>>, body: Buffer): Buffer {
  let head = `POST ${path} HTTP/1.1\r\nHost: ${host}\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  head += `Content-Length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** The bytes of one HTTP/1.1 keep-alive POST of a JSON body. */
export function postRequest(host: string, path: string, json: string): Buffer {
  return postRequestBytes(host, path, { 'Content-Type': 'application/json' }, Buffer.from(json, 'utf8'));
}

/**
 * A benchmark's HTTP/1.1 client on one keep-alive socket, one request at a time. It does the least a
 * client can: writes prepared request bytes, reads the status line and Content-Length, and keeps the
 * body as a Buffer. Answers must carry Content-Length (Fastify's do); a chunked or close-delimited
 * answer, or a socket that closes mid-answer, fails the pending request.
 */
export class RawHttpConnection {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private pending: { resolve(r: RawResponse): void; reject(e: Error): void } | undefined;
  private failure: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  static open(host: string, port: number): Promise<RawHttpConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, noDelay: true });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawHttpConnection(socket));
      });
    });
  }

  /** Sends `request` (from postRequest) and resolves with the answer; one request at a time. */
  send(request: Buffer): Promise<RawResponse> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.pending) return Promise.reject(new Error('a request is already in flight on this connection'));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.socket.write(request);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const data = this.chunks.length === 1 ? chunk : Buffer.concat(this.chunks, this.buffered);
    this.chunks = [data];
    const headEnd = data.indexOf(HEADER_END);
    if (headEnd < 0) return;
    const head = data.toString('latin1', 0, headEnd);
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!length) {
      this.fail(new Error(`answer without Content-Length: ${head.split('\r\n')[0]}`));
      return;
    }
    const end = headEnd + HEADER_END.length + Number(length[1]);
    if (data.length < end) return;
    if (data.length > end) {
      this.fail(new Error('bytes after the answer, but only one request was in flight'));
      return;
    }
    this.chunks = [];
    this.buffered = 0;
    const pending = this.pending;
    this.pending = undefined;
    if (!pending) this.fail(new Error('an answer arrived with no request in flight'));
    else pending.resolve({ status, body: data.subarray(headEnd + HEADER_END.length, end) });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(error);
    this.socket.destroy();
  }
}
