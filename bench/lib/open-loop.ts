/**
 * An open-loop load generator: requests are scheduled at a fixed rate, evenly spaced, and sent on
 * time whether or not earlier ones have been answered (up to `connections` sockets in flight; past
 * that they wait for a socket, and that wait counts). Latency runs from the scheduled send time, so
 * a slow server cannot hide its backlog by slowing the generator down (no coordinated omission).
 */
import { RawHttpConnection, postRequestBytes } from './raw-http-client.js';

export interface OpenLoopSpec {
  url: string;
  body: Buffer;
  headers: Record<string, string>;
  connections: number;
  durationSeconds: number;
  ratePerSecond: number;
  timeoutSeconds?: number;
}

export interface OpenLoopResult {
  seconds: number;
  status: Record<string, number>;
  errors: number;
  okMs: number[];
  /** 429/503 refused at admission (the request never queued). */
  refusedMs: number[];
  /** The same refusals timed from when each was actually sent (without the generator's own lag). */
  refusedFromSendMs: number[];
  /** 503 for a request that was admitted and then timed out in the queue. */
  expiredMs: number[];
  /** Actual send time less scheduled time for every request (ms): the generator's own lag. */
  sendLagMs: number[];
}

const TICK_MS = 1;

/**
 * Requests go out on raw keep-alive sockets (raw-http-client.ts) with bytes prepared once: node's
 * http client cost ~0.1-0.2 ms of the generator's CPU per request, which at 2,000+ requests/s is a
 * queue of its own on the generator's core, and every refusal's measured time carried it.
 */
export async function runOpenLoop(spec: OpenLoopSpec): Promise<OpenLoopResult> {
  const url = new URL(spec.url);
  const request = postRequestBytes(url.host, url.pathname, spec.headers, spec.body);
  const open = () => RawHttpConnection.open(url.hostname, Number(url.port));
  const idle: RawHttpConnection[] = await Promise.all(Array.from({ length: spec.connections }, open));
  const result: OpenLoopResult = { seconds: 0, status: {}, errors: 0, okMs: [], refusedMs: [], refusedFromSendMs: [], expiredMs: [], sendLagMs: [] };
  const total = Math.round(spec.ratePerSecond * spec.durationSeconds);
  const intervalMs = 1000 / spec.ratePerSecond;
  /** Due times of requests that found every socket busy: they go out, in order, as sockets free. */
  const waiting: number[] = [];
  let waitingHead = 0;
  const startMs = performance.now();
  let scheduled = 0;
  let settled = 0;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  const timeoutMs = (spec.timeoutSeconds ?? 30) * 1000;
  // One sweep for request timeouts instead of a timer per request (thousands a second on the
  // generator's event loop, which delays the sends it is there to make on time).
  const inFlight = new Map<RawHttpConnection, number>();
  const sweeper = setInterval(() => {
    const tooOld = performance.now() - timeoutMs;
    for (const [conn, sentMs] of inFlight) if (sentMs < tooOld) conn.close();
  }, 250);

  /** A free socket takes the oldest waiting request, else waits itself. */
  const reuse = (conn: RawHttpConnection): void => {
    if (waitingHead < waiting.length) send(conn, waiting[waitingHead++]!);
    else idle.push(conn);
  };
  const settle = (conn: RawHttpConnection | undefined): void => {
    settled++;
    // A failed socket is replaced, so the generator keeps its connection count.
    if (conn) reuse(conn);
    else void open().then(reuse, () => undefined);
    if (settled >= total && scheduled >= total) finish();
  };
  const send = (conn: RawHttpConnection, dueMs: number): void => {
    const sentMs = performance.now();
    result.sendLagMs.push(sentMs - dueMs);
    inFlight.set(conn, sentMs);
    conn.send(request).then((res) => {
      inFlight.delete(conn);
      const nowMs = performance.now();
      const code = res.status;
      result.status[code] = (result.status[code] ?? 0) + 1;
      if (code === 200) result.okMs.push(nowMs - dueMs);
      // Error bodies are small: read them to tell a refusal from a timeout in the queue.
      else if (code === 503 && res.body.includes('timed out after')) result.expiredMs.push(nowMs - dueMs);
      else if (code === 429 || code === 503) {
        result.refusedMs.push(nowMs - dueMs);
        result.refusedFromSendMs.push(nowMs - sentMs);
      }
      settle(conn);
    }, () => {
      inFlight.delete(conn);
      result.errors++;
      settle(undefined);
    });
  };
  const ticker = setInterval(() => {
    const now = performance.now();
    // Every request due by now, each stamped with its own due time.
    while (scheduled < total && startMs + scheduled * intervalMs <= now) {
      const dueMs = startMs + scheduled++ * intervalMs;
      const conn = idle.pop();
      if (conn) send(conn, dueMs);
      else waiting.push(dueMs);
    }
    if (scheduled >= total) {
      clearInterval(ticker);
      if (settled >= total) finish();
    }
  }, TICK_MS);
  await done;
  clearInterval(sweeper);
  result.seconds = (performance.now() - startMs) / 1000;
  for (const c of idle) c.close();
  return result;
}
