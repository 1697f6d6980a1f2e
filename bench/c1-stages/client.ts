/**
 * One request at a time on one keep-alive socket; prints [send, receive] times in ms on the clock the
 * patched server stamps with (performance.timeOrigin + performance.now()).
 *   node --import tsx bench/c1-stages/client.ts PORT N BODY_FILE MODEL
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';

const [port, count, bodyFile, model] = process.argv.slice(2) as [string, string, string, string];
const body = readFileSync(bodyFile);
const headerLength = body.indexOf(Buffer.from('}]}')) + 3;
const head = `POST /v2/models/${model}/infer HTTP/1.1\r\nHost: bench\r\nContent-Type: application/octet-stream\r\n` +
  `Inference-Header-Content-Length: ${headerLength}\r\nContent-Length: ${body.length}\r\n\r\n`;
const request = Buffer.concat([Buffer.from(head), body]);
const socket = connect(Number(port), '127.0.0.1');
socket.setNoDelay(true);
await new Promise((resolve) => socket.once('connect', resolve));
const now = () => performance.timeOrigin + performance.now();

/** Resolves when one whole response (headers and Content-Length bytes) has arrived. */
function response(): Promise<void> {
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    let expected = -1;
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (expected < 0 && end >= 0) expected = end + 4 + Number(/content-length: (\d+)/i.exec(received.subarray(0, end).toString())?.[1] ?? 0);
      if (expected >= 0 && received.length >= expected) {
        socket.off('data', onData);
        resolve();
      }
    };
    socket.on('data', onData);
  });
}

// THINK_MS: idle time between requests (no inference), to tell an idle core's cold caches from the model's.
const thinkMs = Number(process.env.THINK_MS ?? 0);
const times: Array<[number, number]> = [];
for (let i = 0; i < Number(count); i++) {
  if (thinkMs > 0) await new Promise((resolve) => setTimeout(resolve, thinkMs));
  const sent = now();
  const answered = response();
  socket.write(request);
  await answered;
  times.push([sent, now()]);
}
console.log(JSON.stringify(times));
socket.end();
