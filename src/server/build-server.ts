import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ModelManager } from '../lifecycle/model-manager.js';
import type { TrafficRouter } from '../routing/traffic-router.js';
import { v2ErrorHandler } from './error-reply.js';
import { registerRequestObservability, requestIdFor, type RequestObservability } from './request-observability.js';
import { registerV2Routes } from './v2/v2-routes.js';

export interface ServerOptions {
  /** Served at GET /metrics in the Prometheus text format. */
  readonly metrics?: Registry;
  readonly bodyLimitBytes: number;
  readonly logger: Logger | false;
  readonly serverVersion: string;
  readonly isReady: () => boolean;
  /** Access log and tracing; request ids are always on. */
  readonly observability?: RequestObservability | undefined;
  /** Traffic policies (split, shadow, fallback, cascade) for requests that name no version. */
  readonly router?: TrafficRouter;
}

/** Builds the HTTP server: one raw-body parser (the v2 handler decodes JSON and binary itself), one error shape. */
export function buildServer(manager: ModelManager, options: ServerOptions): FastifyInstance {
  // Fastify's own two lines per request are off: request-observability.ts writes one access line instead.
  const common = {
    bodyLimit: options.bodyLimitBytes,
    genReqId: requestIdFor,
    logController: new LogController({ disableRequestLogging: true }),
    // During shutdown, requests already on open connections are still served (see preClose below).
    return503OnClosing: false,
  };
  const app: FastifyInstance =
    options.logger === false
      ? Fastify({ ...common, logger: false })
      : (Fastify({ ...common, loggerInstance: options.logger }) as unknown as FastifyInstance);
  registerRequestObservability(app, options.observability ?? {});
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: options.bodyLimitBytes }, (_req, body, done) => done(null, body));
  app.setErrorHandler(v2ErrorHandler);
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).type('application/json').send({ error: `no route ${request.method} ${request.url}` });
  });
  registerV2Routes(app, manager, {
    serverName: 'modelplane',
    serverVersion: options.serverVersion,
    bodyLimitBytes: options.bodyLimitBytes,
    isReady: options.isReady,
    router: options.router,
  });
  // Graceful shutdown: stop accepting, finish what is in flight, and close every keep-alive
  // connection after its current response, so the process can exit instead of waiting for clients.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    app.server.closeIdleConnections();
    done();
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) void reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('onResponse', (_request, _reply, done) => {
    if (closing) setImmediate(() => app.server.closeIdleConnections());
    done();
  });

  const metrics = options.metrics;
  if (metrics) {
    app.get('/metrics', async (_request, reply) => {
      void reply.type(metrics.contentType);
      return metrics.metrics();
    });
  }
  app.addHook('onClose', async () => {
    await manager.unloadAll();
  });
  return app;
}
