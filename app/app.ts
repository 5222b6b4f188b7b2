// The app factory: everything a request passes through, in order, with its
// dependencies passed in so tests run the real app on a test host and clock.
import Router from '@koa/router';
import Koa from 'koa';
import type { Tracer } from '@opentelemetry/api';
import type { RequestListener } from 'node:http';
import type { Logger } from 'pino';
import { Authenticator } from '../auth/authenticator.js';
import { memoryState, type SharedState } from '../auth/shared-state.js';
import type { Host } from '../db/host.js';
import { accountRoutes } from '../routes/accounts.js';
import { auditRoutes } from '../routes/audit.js';
import { authRoutes } from '../routes/auth.js';
import { mountRoutes, type RouteDeps, type RouteSpec } from '../routes/define.js';
import { mountDemoApp } from '../routes/demo-app.js';
import { mountDocs } from '../routes/docs.js';
import { openApiDocument } from '../routes/document.js';
import { employeeRoutes } from '../routes/employees.js';
import { healthRoutes } from '../routes/health.js';
import { Metrics } from './metrics.js';
import type { Config } from './config.js';
import { createLogger } from './logger.js';
import { traceHostCalls, traceIdsOfActiveSpan, traceRequests } from './tracing.js';
import helmet from 'koa-helmet';
import { observeRequests, problemDetails, responseHeaders, unhandledError, unmatched } from './middleware.js';

export interface AppOptions {
  config: Config;
  host: Host;
  /** The master secret the signing keys, DPoP nonces and session hashes derive from. */
  secret: string;
  /** The PIN digests' own secret. */
  pinPepper: string;
  clock?: () => Date;
  logger?: Logger;
  /** Tracing on: spans for requests, auth work and host calls (app/tracing.ts). */
  tracer?: Tracer | null;
  /** Used DPoP proofs and login counts, shared as widely as the deployment shares them; default: this process only. */
  sharedState?: SharedState;
}

export interface App {
  koa: Koa;
  auth: Authenticator;
  metrics: Metrics;
  lifecycle: { draining: boolean };
  routes: RouteSpec[];
  document: object;
  /** Serves GET /metrics on a listener of its own, never on the API port. */
  metricsListener: RequestListener;
  /** Releases what the app registered on its host (the host itself stays open). */
  dispose(): void;
}

export const API_VERSION = '1.0.0';

/** Every route module; a new resource is one more line here. */
const ROUTE_MODULES = [healthRoutes, authRoutes, employeeRoutes, accountRoutes, auditRoutes];

export function createApp({
  config, host, secret, pinPepper, clock = () => new Date(), logger, tracer = null,
  sharedState = memoryState({ loginsPerMinute: config.auth.loginRatePerMinute }, clock()),
}: AppOptions): App {
  const log = logger ?? createLogger(config.telemetry.logLevel);
  const auth = new Authenticator(host, sharedState, { ...config.auth, secret, pinPepper, tracer });
  const metrics = new Metrics(host, auth, sharedState);
  const lifecycle = { draining: false };
  // The step-up PIN counts toward the login's lockout: its limits come with the transfer's.
  const transferPolicy = { ...config.transfer, maxFailures: config.auth.maxFailures, lockSeconds: config.auth.lockSeconds };
  const deps: RouteDeps = { host, auth, clock, lifecycle, transferPolicy, publicOrigin: config.http.publicOrigin };
  const routes = ROUTE_MODULES.flatMap((module) => module(deps));
  const document = openApiDocument(routes, API_VERSION, { binding: config.auth.binding });

  const router = new Router();
  mountRoutes(router, routes, deps);
  mountDocs(router, document);
  if (config.env !== 'production') mountDemoApp(router); // the client kit's demo, /app

  // Behind TRUST_PROXY hops, the client address is the one the outermost
  // trusted proxy saw: counted from the right of X-Forwarded-For, never the
  // left, which the client writes.
  const koa = new Koa({ proxy: config.http.trustProxyHops > 0, maxIpsCount: config.http.trustProxyHops });
  // Errors that escape problemDetails (a middleware before it, a failing
  // response stream) are logged and answered here instead of Koa's text/plain.
  koa.context.onerror = unhandledError(log);
  koa.on('error', () => undefined); // Koa reports stream failures only when someone listens; onerror logs them
  koa.use(helmet({
    // JSON responses load nothing: the strictest policy. /docs and /app set their own (routes/docs.ts, routes/demo-app.ts).
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    strictTransportSecurity: false, // HTTPS answers only: responseHeaders sets it
  }));
  koa.use(responseHeaders);
  if (tracer) koa.use(traceRequests(tracer));
  koa.use(observeRequests(log, metrics, tracer ? traceIdsOfActiveSpan : undefined));
  koa.use(problemDetails(log));
  koa.use(unmatched);
  koa.use(router.routes());
  koa.use(router.allowedMethods());
  const stopTracingCalls = tracer ? traceHostCalls(host, tracer) : () => undefined;
  const dispose = () => {
    metrics.dispose();
    stopTracingCalls();
  };
  return { koa, auth, metrics, lifecycle, routes, document, metricsListener: metrics.listener(), dispose };
}
