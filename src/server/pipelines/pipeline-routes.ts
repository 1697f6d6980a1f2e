import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { describeIssues } from '../../config/zod-issues.js';
import { MpError } from '../../errors.js';
import { jsonScope } from '../json-scope.js';
import { MAX_PRIORITY } from '../../queue/queue-backend.js';
import type { PipelineService, RunEvent } from '../../pipeline/pipeline-service.js';

const SubmitBody = z.strictObject({
  input: z.unknown(),
  priority: z.int().min(0).max(MAX_PRIORITY).optional(),
  delayMs: z.int().nonnegative().max(30 * 24 * 3600 * 1000).optional(),
});
const RedriveBody = z.strictObject({ runId: z.string().min(1).optional() }).optional();
const DlqQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});
const IdempotencyKey = z.string().min(1).max(256);

type Params = { name: string; id: string };

function parse<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw new MpError('MP_INVALID_ARG', `invalid ${what}: ${describeIssues(r.error)}`);
  return r.data;
}

/** Unsent SSE bytes allowed per client. */
const MAX_SSE_BUFFER_BYTES = 1024 * 1024;

/** Terminal events end an SSE stream. */
const TERMINAL = new Set(['completed', 'dead', 'cancelled']);

/**
 * The pipeline HTTP surface, as an encapsulated fastify plugin with its own error shape `{"error": "..."}`:
 *
 *   POST /v1/pipelines/:name/runs              submit (Idempotency-Key header); 202 new, 200 existing, 429 full
 *   GET  /v1/pipelines/:name/runs/:id          run status with per-step state
 *   GET  /v1/pipelines/:name/runs/:id/events   server-sent events until the run finishes
 *   POST /v1/pipelines/:name/runs/:id/cancel   cancel
 *   GET  /v1/pipelines/:name/dlq               dead-letter queue (?limit, ?offset)
 *   POST /v1/pipelines/:name/dlq/redrive       {"runId"?}: one dead run, or all
 *   GET  /v1/pipelines                         pipeline names
 *   GET  /v1/pipelines/:name                   definition (JSON form) and queue depth by state
 */
export function registerPipelineRoutes(app: FastifyInstance, service: PipelineService): void {
  void app.register(async (scope) => {
    jsonScope(scope, 'pipeline');

    scope.post('/v1/pipelines/:name/runs', async (req: FastifyRequest<{ Params: Params }>, reply) => {
      const body = parse(SubmitBody, req.body ?? {}, 'body');
      const header = req.headers['idempotency-key'];
      const key = header === undefined ? undefined : parse(IdempotencyKey, header, 'header Idempotency-Key');
      const r = await service.submit(req.params.name, body.input, { idempotencyKey: key, priority: body.priority, delayMs: body.delayMs, waitTimeoutMs: 0 });
      return reply.code(r.created ? 202 : 200).send({ runId: r.runId, created: r.created });
    });

    scope.get('/v1/pipelines/:name/runs/:id', async (req: FastifyRequest<{ Params: Params }>) => service.status(req.params.name, req.params.id));

    scope.post('/v1/pipelines/:name/runs/:id/cancel', async (req: FastifyRequest<{ Params: Params }>) => {
      const outcome = await service.cancel(req.params.name, req.params.id);
      return { runId: req.params.id, outcome };
    });

    scope.get('/v1/pipelines/:name/runs/:id/events', async (req: FastifyRequest<{ Params: Params }>, reply) => streamEvents(service, req, reply));

    scope.get('/v1/pipelines/:name/dlq', async (req: FastifyRequest<{ Params: Params }>) => {
      const q = parse(DlqQuery, req.query, 'query');
      return { runs: await service.listDead(req.params.name, q) };
    });

    scope.post('/v1/pipelines/:name/dlq/redrive', async (req: FastifyRequest<{ Params: Params }>) => {
      const body = parse(RedriveBody, req.body ?? undefined, 'body');
      return { redriven: await service.redrive(req.params.name, body?.runId) };
    });

    scope.get('/v1/pipelines', async () => ({ pipelines: service.pipelines() }));

    scope.get('/v1/pipelines/:name', async (req: FastifyRequest<{ Params: Params }>) => ({
      name: req.params.name,
      definition: service.definition(req.params.name),
      depth: await service.depth(req.params.name),
    }));
  });
}

/**
 * SSE: first a `status` event with the run as it is now, then each queue event of this run, then the stream
 * closes after a terminal event. Subscribing before reading the status means no event falls in between.
 */
async function streamEvents(service: PipelineService, req: FastifyRequest<{ Params: Params }>, reply: FastifyReply): Promise<void> {
  const { name, id } = req.params;
  const pending: RunEvent[] = [];
  let write: ((e: RunEvent) => void) | null = null;
  const unsubscribe = await service.subscribe(name, (e) => (write ? write(e) : pending.push(e)), id);
  let status;
  try {
    status = await service.status(name, id);
  } catch (err) {
    await unsubscribe();
    throw err;
  }
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  let closed = false;
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  const close = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(keepAlive);
    void unsubscribe();
    res.end();
  };
  req.raw.on('close', close);
  const send = (event: string, data: unknown): void => {
    if (closed) return;
    // A client that stops reading does not grow our memory: past the bound the stream ends and the client
    // can reconnect (the first event is always the full status).
    if (res.writableLength > MAX_SSE_BUFFER_BYTES) return close();
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  send('status', status);
  if (TERMINAL.has(status.state)) return close();
  write = (e) => {
    send(e.type, { runId: e.runId, data: e.data });
    if (TERMINAL.has(e.type)) close();
  };
  for (const e of pending.splice(0)) write(e);
}
