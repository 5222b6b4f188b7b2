// Distributed tracing (OpenTelemetry, W3C Trace Context): a span per request
// that continues an incoming traceparent, spans for each host round trip
// (database semantic conventions), and the trace id on the response, in the
// log lines and in the host's audit rows. Off unless an OTLP endpoint is
// configured; off, none of this runs and the SDK is not even loaded (about
// 0.2 s of every start).
import {
  context, propagation, SpanKind, SpanStatusCode, trace, type Context as OtelContext, type Span, type Tracer,
} from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-node';
import {
  ATTR_CLIENT_ADDRESS, ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION, ATTR_URL_PATH, ATTR_URL_SCHEME,
} from '@opentelemetry/semantic-conventions';
import type { Context, Next } from 'koa';
import type { Host } from '../db/host.js';

export const TRACER_NAME = 'host-session-api';

export interface Tracing {
  tracer: Tracer;
  /** Exports what is buffered, then stops. */
  shutdown(): Promise<void>;
}

/**
 * A tracer provider exporting over OTLP/HTTP to the endpoint the standard
 * OTEL_EXPORTER_OTLP_* variables name (the exporter reads them, headers and
 * timeouts included), registered globally so spans find their parents through
 * the async context. Tests pass their own span processor.
 */
export async function startTracing(options: { serviceName: string; version: string; processor?: SpanProcessor }): Promise<Tracing> {
  const [{ OTLPTraceExporter }, { resourceFromAttributes }, { BatchSpanProcessor, NodeTracerProvider }] = await Promise.all([
    import('@opentelemetry/exporter-trace-otlp-http'), import('@opentelemetry/resources'), import('@opentelemetry/sdk-trace-node'),
  ]);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName, [ATTR_SERVICE_VERSION]: options.version }),
    spanProcessors: [options.processor ?? new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register();
  return {
    tracer: provider.getTracer(TRACER_NAME, options.version),
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/** `traceparent` of a span (W3C Trace Context): what the response carries. */
function traceparent(span: Span): string {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, '0')}`;
}

const headerGetter = {
  keys: (carrier: Context['headers']) => Object.keys(carrier),
  get: (carrier: Context['headers'], key: string) => carrier[key],
};

/**
 * The request's span: continues the client's traceparent (or starts a trace),
 * named by the route template once routing has matched it, never carrying
 * the token, the PIN or a body. Mounted before the access log so its line
 * carries the trace ids.
 */
export function traceRequests(tracer: Tracer) {
  return async function traceRequest(ctx: Context, next: Next): Promise<void> {
    const parent: OtelContext = propagation.extract(context.active(), ctx.headers, headerGetter);
    await tracer.startActiveSpan(ctx.method, {
      kind: SpanKind.SERVER,
      attributes: {
        [ATTR_HTTP_REQUEST_METHOD]: ctx.method, [ATTR_URL_PATH]: ctx.path.slice(0, 200), [ATTR_URL_SCHEME]: ctx.protocol,
        [ATTR_CLIENT_ADDRESS]: ctx.ip, 'http.request.id': String(ctx.state.requestId),
      },
    }, parent, async (span) => {
      ctx.state.traceId = span.spanContext().traceId;
      ctx.set('traceparent', traceparent(span));
      try {
        await next();
      } finally {
        if (ctx.state.route) {
          span.updateName(String(ctx.state.route));
          span.setAttribute(ATTR_HTTP_ROUTE, String(ctx.state.route).replace(/^\S+ /, ''));
        }
        span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, ctx.status);
        if (ctx.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      }
    });
  };
}

const DB_SYSTEM = { postgres: 'postgresql', db2: 'ibm.db2' } as const;

/**
 * A CLIENT span per host round trip, made when the trip ends (the listener
 * runs in the caller's async context, so the span's parent is the caller's
 * span) with the start time it had: procedure or statement name, rows, and
 * the SQLSTATE of a failure (OpenTelemetry's database conventions).
 */
export function traceHostCalls(host: Host, tracer: Tracer): () => void {
  return host.onCall((name, seconds, outcome) => {
    const end = Date.now();
    const procedure = !name.includes('.');
    const span = tracer.startSpan(procedure ? `CALL ${name}` : name, {
      kind: SpanKind.CLIENT,
      startTime: end - seconds * 1000,
      attributes: {
        'db.system.name': DB_SYSTEM[host.dialect],
        'db.operation.name': procedure ? 'CALL' : name.split('.').pop() ?? name,
        ...(procedure ? { 'db.stored_procedure.name': name } : { 'db.query.summary': name }),
        ...(outcome.rows === undefined ? {} : { 'db.response.returned_rows': outcome.rows }),
        ...(outcome.sqlState ? { 'db.response.status_code': outcome.sqlState, 'error.type': outcome.sqlState } : {}),
      },
    });
    if (outcome.failed) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end(end);
  });
}

/** For the logger: the active span's ids on every line written inside a request. */
export function traceIdsOfActiveSpan(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId };
}
