import type { Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { MODELPLANE_VERSION } from '../version.js';

export interface TracingOptions {
  /** OTLP/HTTP base URL (e.g. http://collector:4318); spans go to `${url}/v1/traces`. */
  readonly otlpEndpoint?: string | undefined;
  /** Share of new traces recorded (requests with a sampled `traceparent` always are). */
  readonly sampleRatio?: number | undefined;
  readonly serviceName?: string | undefined;
  /** Instead of OTLP (tests). */
  readonly exporter?: SpanExporter | undefined;
}

export interface Tracing {
  readonly tracer: Tracer;
  readonly propagator: W3CTraceContextPropagator;
  /** Exports what is buffered, then stops. */
  shutdown(): Promise<void>;
}

/** True when an OTLP endpoint is configured by flag or by the standard OTEL_EXPORTER_OTLP_* variables. */
export function tracingConfigured(otlpEndpoint: string | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(otlpEndpoint || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT);
}

/**
 * The OpenTelemetry SDK, set up only when an endpoint (or exporter) is given: without one nothing
 * is created, requests carry no trace and the request path costs one null check.
 */
export function startTracing(options: TracingOptions): Tracing | undefined {
  if (!options.exporter && !tracingConfigured(options.otlpEndpoint)) return undefined;
  const exporter = options.exporter
    // Without a URL the exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT itself, per the spec.
    ?? new OTLPTraceExporter(options.otlpEndpoint ? { url: `${options.otlpEndpoint.replace(/\/+$/, '')}/v1/traces` } : {});
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName ?? 'modelplane', 'service.version': MODELPLANE_VERSION }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.sampleRatio ?? 1) }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000 })],
  });
  return {
    tracer: provider.getTracer('modelplane', MODELPLANE_VERSION),
    propagator: new W3CTraceContextPropagator(),
    shutdown: () => provider.shutdown(),
  };
}
