import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUE_MESSAGES } from '../backoff.js';
import type { QueueEventListener, QueueEventType } from '../queue-backend.js';
import { failureMessage } from './redis-scripts.js';

/**
 * Listens to a queue's BullMQ event stream (plus the `mp-*` events the backend publishes onto it) and maps
 * them to QueueEvents. Resolves once listening; the returned function stops and closes the connection.
 */
export async function subscribeQueueEvents(
  redis: Redis, prefix: string, queueName: string, maxStalls: number, listener: QueueEventListener,
): Promise<() => Promise<void>> {
  // Start right after the newest event now in the stream, so nothing published after this call is missed.
  const last = await redis.xrevrange(`${prefix}:${queueName}:events`, '+', '-', 'COUNT', 1);
  const lastEventId = last[0]?.[0] ?? '0-0';
  // A connection we pass in counts as shared, so BullMQ leaves closing it to us.
  const conn = redis.duplicate();
  const qe = new QueueEvents(queueName, { connection: conn, prefix, lastEventId });
  const emit = (type: QueueEventType, id: string | undefined, data: unknown): void => {
    if (id) listener({ type, queue: queueName, id, data });
  };
  qe.on('added', (a) => emit('enqueued', a.jobId, null));
  qe.on('active', (a) => emit('active', a.jobId, null));
  qe.on('progress', (a) => emit('progress', a.jobId, a.data));
  qe.on('completed', (a) => emit('completed', a.jobId, null));
  qe.on('failed', (a) => {
    // A cancelled running job passes through BullMQ's failed state; its reason marks it.
    if (a.failedReason === QUEUE_MESSAGES.cancelled) emit('cancelled', a.jobId, a.failedReason);
    else emit('dead', a.jobId, failureMessage(a.failedReason, maxStalls));
  });
  const custom = qe as unknown as NodeJS.EventEmitter;
  for (const type of ['retrying', 'cancelled', 'enqueued'] as const) {
    custom.on(`mp-${type}`, (a: { jobId?: string; data?: string }) => emit(type, a.jobId, a.data === undefined ? null : JSON.parse(a.data)));
  }
  await qe.waitUntilReady();
  return async () => {
    await qe.close().catch(() => undefined);
    conn.disconnect();
  };
}
