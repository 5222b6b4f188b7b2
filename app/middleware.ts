// The cross-cutting middleware, in the order app.ts mounts them.
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { v4 as uuidv4 } from 'uuid';
import { problem } from '../contract/problems.js';
import { TurnBatch } from './end-of-turn.js';
import { problemBody, toProblem } from './problem.js';

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const HSTS = 'max-age=31536000; includeSubDomains';

/**
 * The headers every answer carries besides helmet's: the request id (a sane
 * one the client sent, echoed, or a new one), `Cache-Control: no-store` and
 * `Pragma` on every /api answer (it may carry account, session, transfer,
 * audit or employee data; Pragma for HTTP/1.0 proxies), and HSTS on HTTPS
 * answers only (RFC 6797 §7.2; behind a TLS-terminating balancer ctx.secure
 * follows its X-Forwarded-Proto when TRUST_PROXY is set).
 */
export async function responseHeaders(ctx: Context, next: Next): Promise<void> {
  const { res } = ctx;
  const offered = ctx.get('x-request-id');
  const requestId = SANE_REQUEST_ID.test(offered) ? offered : uuidv4();
  ctx.state.requestId = requestId;
  res.setHeader('X-Request-Id', requestId);
  if (ctx.path.startsWith('/api/')) {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Pragma', 'no-cache');
  }
  if (ctx.secure) res.setHeader('Strict-Transport-Security', HSTS);
  await next();
}

/**
 * The one place errors become responses: problem+json, never a stack or a
 * driver message. A refusal that carries a reason (a DPoP proof's, a token's,
 * a signature's: never in the body, which must be no oracle) is logged with
 * it at info, so an operator can tell a client what it did wrong.
 */
export function problemDetails(logger: Logger) {
  return async function problemDetailsMiddleware(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (thrown) {
      const error = toProblem(thrown);
      const where = { requestId: ctx.state.requestId, route: ctx.state.route };
      if (error.status >= 500) logger[error.status === 503 ? 'warn' : 'error']({ err: thrown, ...where }, 'request failed');
      else if (error.reason) logger.info({ ...where, code: error.code, reason: error.reason }, 'request refused');
      ctx.status = error.status;
      for (const [name, value] of Object.entries(error.headers)) ctx.set(name, value);
      ctx.body = problemBody(error, ctx.state.requestId);
      ctx.type = 'application/problem+json';
    }
  };
}

/**
 * Koa's last resort (ctx.onerror) for what escapes problemDetails: an error in
 * a middleware before it, or a response stream that fails. Logged once with
 * the request id; answered as problem+json while nothing has been sent, else
 * the connection is cut so the client sees a broken response, not a hang.
 */
export function unhandledError(logger: Logger) {
  return function onerror(this: Context, thrown: unknown): void {
    if (thrown === null || thrown === undefined) return;
    const error = toProblem(thrown);
    logger.error({ err: thrown, requestId: this.state.requestId, route: this.state.route }, 'request failed outside the error mapper');
    const { res } = this;
    if (res.headersSent || !this.writable) {
      res.destroy();
      return;
    }
    const requestId = typeof this.state.requestId === 'string' ? this.state.requestId : uuidv4();
    const body = JSON.stringify(problemBody(error, requestId));
    // Whatever a half-built answer had set goes, helmet's headers with it; the
    // two of them that guard an error body are written again below.
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    res.writeHead(error.status, {
      ...error.headers,
      'Content-Type': 'application/problem+json',
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'no-store',
      'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
      'X-Content-Type-Options': 'nosniff',
      'X-Request-Id': requestId,
    }).end(body);
  };
}

/**
 * One observation per request, taken once: the access log line (id, route,
 * status, latency; no headers, no bodies: they hold tokens and PINs) and the
 * latency histogram by route and status. The turn's lines are logged together
 * when it ends (app/end-of-turn.ts), each with its request's trace ids when
 * tracing is on (`traceIds`, read while the request's span is active).
 */
export function observeRequests(
  logger: Logger,
  metrics: { observe(method: string, route: string, status: number, seconds: number): void },
  traceIds?: () => Record<string, string>,
) {
  // Only fixed, known-safe fields go into these lines: the redaction of the
  // other logs would find nothing here, at a cost on every request.
  const access = logger.isLevelEnabled('info') ? logger.child({}, { redact: [] }) : null;
  const lines = new TurnBatch<object>((batch) => {
    for (const line of batch) access?.info(line, 'request');
  });
  return async function observeRequestsMiddleware(ctx: Context, next: Next): Promise<void> {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const route: string | undefined = ctx.state.route;
      metrics.observe(ctx.method, route ?? 'unmatched', ctx.status, ms / 1000);
      if (access) {
        lines.add({ requestId: ctx.state.requestId, method: ctx.method, route: route ?? ctx.path.slice(0, 200), status: ctx.status, ms, ...traceIds?.() });
      }
    }
  };
}

/** After the router: an unmatched path is 404, a known path with the wrong method 405 with Allow. */
export async function unmatched(ctx: Context, next: Next): Promise<void> {
  await next();
  if (ctx.body !== undefined && ctx.body !== null) return;
  if (ctx.status === 405) throw problem('method_not_allowed', { headers: { Allow: String(ctx.response.get('Allow')) } });
  if (ctx.status === 404) throw problem('not_found', { detail: 'No route matches this path.' });
  if (ctx.status === 501) throw problem('not_implemented');
}
