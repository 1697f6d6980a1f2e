import type { FastifyReply } from 'fastify';

/** An AbortSignal that fires when the client hangs up before its answer is written, so queued work is dropped. */
export function clientAbortSignal(reply: FastifyReply): AbortSignal {
  const aborter = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) aborter.abort();
  });
  return aborter.signal;
}
