import { SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { MpError } from '../errors.js';

/** Where a request's spans hang from: given only when tracing is on, so untraced requests cost a null check. */
export interface TraceParent {
  readonly tracer: Tracer;
  /** Holds the request's own span (e.g. the HTTP server span). */
  readonly context: Context;
}

/**
 * One request's scheduler spans, children of its parent span: `queue` (admitted until its batch
 * starts) and `compute` (its batch's run, linked to the batch span, which links back to every
 * request in the batch).
 */
export class RequestTrace {
  private readonly queueSpan: Span;
  private computeSpan: Span | undefined;

  constructor(
    private readonly parent: TraceParent,
    readonly attributes: Attributes,
  ) {
    this.queueSpan = parent.tracer.startSpan('modelplane.queue', { attributes }, parent.context);
  }

  get tracer(): Tracer {
    return this.parent.tracer;
  }

  /** The parent span's context, which the batch span links to. */
  parentSpanContext(): ReturnType<Span['spanContext']> | undefined {
    return trace.getSpanContext(this.parent.context);
  }

  dispatched(batchSpan: Span): void {
    this.queueSpan.end();
    this.computeSpan = this.parent.tracer.startSpan(
      'modelplane.compute',
      { attributes: this.attributes, links: [{ context: batchSpan.spanContext() }] },
      this.parent.context,
    );
  }

  settled(error: MpError | undefined): void {
    const open = this.computeSpan ?? this.queueSpan;
    if (error) {
      open.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
      open.setAttribute('modelplane.error_code', error.code);
    }
    open.end();
  }
}

/** The span of one batch execution, linked to the span of every traced request in it. */
export function startBatchSpan(traces: readonly RequestTrace[], rows: number): Span {
  const first = traces[0]!;
  const links = [];
  for (const t of traces) {
    const context = t.parentSpanContext();
    if (context) links.push({ context });
  }
  return first.tracer.startSpan('modelplane.batch', {
    root: true,
    links,
    attributes: { ...first.attributes, 'modelplane.batch_size': rows, 'modelplane.request_count': traces.length },
  });
}
