/**
 * A closed-loop load generator on raw keep-alive sockets: `connections` clients, each sending its
 * next request as soon as the last one is answered. The request bytes are prepared once
 * (raw-http-client.ts), so a request costs the generator a socket write and a status-line read.
 *
 * Why not autocannon: on this 2-core machine the generator shares nothing with the server's CPU, but
 * its latency is in the server's loop all the same. At concurrency 64 against a batching server the
 * 64 answers of a batch come back together and the next batch can only start when the 64 new
 * requests are in: every microsecond the generator spends per answer before it sends the next
 * request is time the model waits (autocannon: its JS HTTP parser, per-request events and
 * histograms; bench/lib/load-worker.ts keeps it behind `client: 'autocannon'` for comparison).
 */
import { RawHttpConnection, postRequestBytes } from './raw-http-client.js';

export interface ClosedLoopSpec {
  url: string;
  body: Buffer;
  headers: Record<string, string>;
  connections: number;
  durationSeconds: number;
  /** A request still unanswered this long after the clients stop sending fails (default 30 s). */
  timeoutSeconds?: number;
}

export interface ClosedLoopResult {
  /** From the first send to the last answer (requests in flight at the deadline are awaited and counted). */
  seconds: number;
  /** When the clients stopped sending, ms after the first send. */
  deadlineMs: number;
  status: Record<string, number>;
  errors: number;
  okMs: number[];
  refusedMs: number[];
  /** Completion times of the 200s, ms after the first send, in order. */
  okCompletedMs: number[];
}

export async function runClosedLoop(spec: ClosedLoopSpec): Promise<ClosedLoopResult> {
  const url = new URL(spec.url);
  const request = postRequestBytes(url.host, url.pathname, spec.headers, spec.body);
  const connections = await Promise.all(Array.from({ length: spec.connections }, () => RawHttpConnection.open(url.hostname, Number(url.port))));
  const result: ClosedLoopResult = { seconds: 0, deadlineMs: spec.durationSeconds * 1000, status: {}, errors: 0, okMs: [], refusedMs: [], okCompletedMs: [] };
  const startMs = performance.now();
  const deadline = startMs + spec.durationSeconds * 1000;
  const client = async (conn: RawHttpConnection): Promise<void> => {
    try {
      while (performance.now() < deadline) {
        const sentMs = performance.now();
        const res = await conn.send(request);
        const doneMs = performance.now();
        result.status[res.status] = (result.status[res.status] ?? 0) + 1;
        if (res.status === 200) {
          result.okMs.push(doneMs - sentMs);
          result.okCompletedMs.push(doneMs - startMs);
        } else if (res.status === 429 || res.status === 503) result.refusedMs.push(doneMs - sentMs);
      }
    } catch {
      result.errors++;
    } finally {
      conn.close();
    }
  };
  // A server that stops answering must not hang the benchmark: past the timeout, close what is left.
  const giveUp = setTimeout(() => connections.forEach((c) => c.close()), (spec.durationSeconds + (spec.timeoutSeconds ?? 30)) * 1000);
  await Promise.all(connections.map(client));
  clearTimeout(giveUp);
  result.seconds = (performance.now() - startMs) / 1000;
  return result;
}
