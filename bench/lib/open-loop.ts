/**
 * An open-loop load generator: requests are scheduled at a fixed rate, evenly spaced, and sent on
 * time whether or not earlier ones have been answered (up to `connections` sockets in flight; past
 * that they wait for a socket, and that wait counts). Latency runs from the scheduled send time, so
 * a slow server cannot hide its backlog by slowing the generator down (no coordinated omission).
 */
import http from 'node:http';

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

export function runOpenLoop(spec: OpenLoopSpec): Promise<OpenLoopResult> {
  const url = new URL(spec.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections, maxFreeSockets: spec.connections });
  const headers = { ...spec.headers, 'content-length': String(spec.body.byteLength) };
  const result: OpenLoopResult = { seconds: 0, status: {}, errors: 0, okMs: [], refusedMs: [], refusedFromSendMs: [], expiredMs: [], sendLagMs: [] };
  const total = Math.round(spec.ratePerSecond * spec.durationSeconds);
  const intervalMs = 1000 / spec.ratePerSecond;
  const startMs = performance.now();
  let scheduled = 0;
  let settled = 0;

  return new Promise((resolve) => {
    const finishIfDone = (): void => {
      if (settled < total || scheduled < total) return;
      result.seconds = (performance.now() - startMs) / 1000;
      agent.destroy();
      resolve(result);
    };
    const send = (dueMs: number): void => {
      const sentMs = performance.now();
      result.sendLagMs.push(sentMs - dueMs);
      const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers, agent, timeout: (spec.timeoutSeconds ?? 30) * 1000 }, (res) => {
        const code = res.statusCode ?? 0;
        // Error bodies are small: read them to tell a refusal from a timeout in the queue.
        let text = '';
        if (code === 200) res.resume();
        else res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const ms = performance.now() - dueMs;
          result.status[code] = (result.status[code] ?? 0) + 1;
          if (code === 200) result.okMs.push(ms);
          else if (code === 503 && text.includes('timed out after')) result.expiredMs.push(ms);
          else if (code === 429 || code === 503) {
            result.refusedMs.push(ms);
            result.refusedFromSendMs.push(performance.now() - sentMs);
          }
          settled++;
          finishIfDone();
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        result.errors++;
        settled++;
        finishIfDone();
      });
      req.end(spec.body);
    };
    const ticker = setInterval(() => {
      const now = performance.now();
      // Every request due by now, each stamped with its own due time.
      while (scheduled < total && startMs + scheduled * intervalMs <= now) send(startMs + scheduled++ * intervalMs);
      if (scheduled >= total) {
        clearInterval(ticker);
        finishIfDone();
      }
    }, TICK_MS);
  });
}
