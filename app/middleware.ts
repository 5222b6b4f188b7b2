// The cross-cutting middleware, in the order app.ts mounts them.
import type { Context, Next } from 'koa';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { AppError, MethodNotAllowed, NotFound } from '../routes/errors.js';
import { problemBody, toAppError } from './problem.js';

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Echoes a sane client request id, or makes one; every response carries it. */
export async function requestId(ctx: Context, next: Next): Promise<void> {
  const offered = ctx.get('X-Request-Id');
  ctx.state.requestId = SANE_REQUEST_ID.test(offered) ? offered : randomUUID();
  ctx.set('X-Request-Id', ctx.state.requestId);
  await next();
}

/**
 * HSTS on HTTPS responses only (RFC 6797 §7.2: a plain-HTTP answer must not
 * carry it). Behind a TLS-terminating balancer, ctx.secure follows its
 * X-Forwarded-Proto when TRUST_PROXY is set.
 */
export async function strictTransportSecurity(ctx: Context, next: Next): Promise<void> {
  if (ctx.secure) ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
  await next();
}

/**
 * Every /api answer may carry account, session, transfer, audit or employee
 * data: no shared or private cache may keep it (Pragma for HTTP/1.0 proxies).
 */
export async function apiNoStore(ctx: Context, next: Next): Promise<void> {
  if (ctx.path.startsWith('/api/')) {
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Pragma', 'no-cache');
  }
  await next();
}

/** The one place errors become responses: problem+json, never a stack or a driver message. */
export function problemDetails(logger: Logger) {
  return async function problemDetailsMiddleware(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (thrown) {
      const error = toAppError(thrown);
      if (error.status >= 500) {
        const level = error.status === 503 ? 'warn' : 'error';
        logger[level]({ err: thrown, requestId: ctx.state.requestId, route: ctx.state.route }, 'request failed');
      }
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
    const error = toAppError(thrown);
    logger.error({ err: thrown, requestId: this.state.requestId, route: this.state.route }, 'request failed outside the error mapper');
    const { res } = this;
    if (res.headersSent || !this.writable) {
      res.destroy();
      return;
    }
    const requestId = typeof this.state.requestId === 'string' ? this.state.requestId : randomUUID();
    const body = JSON.stringify(problemBody(error, requestId));
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

/** One line per request: id, route, status, latency. No headers, no bodies (they hold tokens and PINs). */
export function accessLog(logger: Logger) {
  return async function accessLogMiddleware(ctx: Context, next: Next): Promise<void> {
    if (!logger.isLevelEnabled('info')) return next();
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      logger.info({
        requestId: ctx.state.requestId,
        method: ctx.method,
        route: ctx.state.route ?? ctx.path.slice(0, 200),
        status: ctx.status,
        ms: Number(process.hrtime.bigint() - started) / 1e6,
      }, 'request');
    }
  };
}

/** After the router: an unmatched path is 404, a known path with the wrong method 405 with Allow. */
export async function unmatched(ctx: Context, next: Next): Promise<void> {
  await next();
  if (ctx.body !== undefined && ctx.body !== null) return;
  if (ctx.status === 405) throw new MethodNotAllowed(ctx.response.get('Allow'));
  if (ctx.status === 404) throw new NotFound('No route matches this path.');
  if (ctx.status === 501) throw new AppError(501, 'not_implemented', 'Not implemented', 'This method is not supported.');
}
