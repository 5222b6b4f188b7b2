// Trace spans around the API tier's own work (token check, session lookup,
// PIN KDF). With tracing off there is no tracer and nothing is called: the
// work runs as it would without this module.
import { SpanStatusCode, type Attributes, type Span, type Tracer } from '@opentelemetry/api';

/** Runs `work` inside a span named `name` (a child of the active one), or plainly when tracing is off. */
export function inSpan<T>(tracer: Tracer | null, name: string, attributes: Attributes, work: (span: Span | null) => Promise<T>): Promise<T> {
  if (!tracer) return work(null);
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.setAttribute('error.type', error instanceof Error ? error.name : 'unknown');
      throw error;
    } finally {
      span.end();
    }
  });
}
