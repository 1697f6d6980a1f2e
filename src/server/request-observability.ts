import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapGetter, trace, type Span, type TextMapPropagator, type Tracer } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { RequestTiming } from '../lifecycle/serving-context.js';
import type { TraceParent } from '../scheduler/request-trace.js';

/** What a route learned about the inference it served, for the access log line. */
export interface InferenceRecord {
  readonly model: string;
  readonly version: number;
  readonly timing: RequestTiming;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by inference routes. */
    inference: InferenceRecord | null;
    /** The request's server span, when tracing is on. */
    traceParent: TraceParent | null;
  }
}

export interface RequestObservability {
  /** One line per request at info level; undefined (or a level above info) = none. */
  readonly accessLog?: Logger | undefined;
  readonly tracing?: { readonly tracer: Tracer; readonly propagator: TextMapPropagator } | undefined;
}

/** A client's X-Request-Id is kept when it is short and plain (it goes into logs verbatim). */
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** Fastify's genReqId: the client's X-Request-Id, else a fresh UUID. */
export function requestIdFor(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  const id = Array.isArray(given) ? given[0] : given;
  return id !== undefined && CLIENT_REQUEST_ID.test(id) ? id : randomUUID();
}

/**
 * Request ids (echoed in `X-Request-Id`), the access log and the HTTP server span with W3C
 * `traceparent` propagation. Each costs nothing when it is off.
 */
export function registerRequestObservability(app: FastifyInstance, options: RequestObservability): void {
  app.decorateRequest('inference', null);
  app.decorateRequest('traceParent', null);
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });

  const tracing = options.tracing;
  if (tracing) {
    const spans = new WeakMap<object, Span>();
    app.addHook('onRequest', (request, _reply, done) => {
      const parent = tracing.propagator.extract(ROOT_CONTEXT, request.headers, defaultTextMapGetter);
      const route = request.routeOptions.url ?? request.url;
      const span = tracing.tracer.startSpan(`${request.method} ${route}`, {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': request.method, 'http.route': route, 'url.path': request.url.split('?')[0], 'modelplane.request_id': request.id },
      }, parent);
      spans.set(request, span);
      request.traceParent = { tracer: tracing.tracer, context: trace.setSpan(parent, span) };
      done();
    });
    app.addHook('onResponse', (request, reply, done) => {
      const span = spans.get(request);
      if (span) {
        span.setAttribute('http.response.status_code', reply.statusCode);
        if (request.inference) span.setAttributes({ 'modelplane.model': request.inference.model, 'modelplane.version': request.inference.version });
        if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      }
      done();
    });
  }

  const log = options.accessLog;
  if (log?.isLevelEnabled('info')) {
    app.addHook('onResponse', (request, reply, done) => {
      const inference = request.inference;
      const line: Record<string, unknown> = {
        req_id: request.id,
        method: request.method,
        url: request.url,
        status: reply.statusCode,
        duration_ms: round(reply.elapsedTime),
      };
      if (inference) {
        line.model = inference.model;
        line.version = inference.version;
        line.queue_ms = round(inference.timing.queueUs / 1000);
        line.compute_ms = round(inference.timing.computeUs / 1000);
        line.batch_rows = inference.timing.batchRows;
      }
      log.info(line, 'request');
      done();
    });
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
