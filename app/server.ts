// The server entry: config, host, secret, migrations, HTTP or HTTPS listener,
// purge timer, graceful shutdown, and (WORKERS > 1) a cluster of workers.
// Nothing runs until main() or start() is called.
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import { shareStateWithWorkers } from '../auth/cluster-state.js';
import type { Host } from '../db/host.js';
import { checkSchema, migrate, type MigrateResult } from '../db/migrate.js';
import { API_VERSION, createApp, type App } from './app.js';
import { ConfigError, loadConfig, type Config, type DbConfig, type TelemetryConfig } from './config.js';
import { createLogger } from './logger.js';
import { clusterMetricsListener, shareMetricsWithPrimary } from './metrics.js';
import { openConfiguredHost } from './open-host.js';
import { startPurgeTimer } from './purge.js';
import { openSharedState } from './open-shared-state.js';
import { startTracing, traceIdsOfActiveSpan, type Tracing } from './tracing.js';
import { resolveSecrets } from './secret.js';

export interface Running {
  server: Server;
  app: App;
  url: string;
  /** Where GET /metrics answers, when it is served. */
  metricsUrl: string | null;
  /** What start-up did to the host: migrations applied, demo data seeded. */
  migrated: MigrateResult;
  /** Drains: readiness 503, no new connections, in-flight requests finish (bounded), the host closed if start() opened it. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** A host opened by the caller (tests wrap one); otherwise DB_URL is opened. */
  host?: Host;
  logger?: Logger;
  /** Run the purge timer in this process (in a cluster, one worker does). */
  purge?: boolean;
}

function listen(config: Config, app: App): Server {
  const handler = app.koa.callback();
  const { tls } = config.http;
  if (!tls) return createHttpServer(handler);
  // HTTPS only on this port, TLS 1.2 or newer; every answer carries HSTS (responseHeaders sets it on secure requests).
  return createHttpsServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile), minVersion: 'TLSv1.2' }, handler);
}

/** Listens; a port in use says which listener it is and the variable that moves it. */
async function listenOn(server: Server, port: number, address: string, what: { name: string; variable: string }): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE'
        ? new Error(`the ${what.name} cannot listen on ${address}:${port}: the port is in use (another instance?); set ${what.variable} to another port`
          + `${what.variable === 'METRICS_PORT' ? ", or METRICS_PORT=off for none" : ''}`, { cause: error })
        : error);
    });
    server.listen(port, address, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  const bound = server.address();
  return typeof bound === 'object' && bound ? bound.port : port;
}

const API_LISTENER = { name: 'API', variable: 'PORT' };
const METRICS_LISTENER = { name: 'metrics listener', variable: 'METRICS_PORT' };

/** /metrics on its own listener, when configured: this process's, or a cluster primary's for all its workers. */
async function listenForMetrics(telemetry: TelemetryConfig, listener: RequestListener): Promise<{ server: Server; url: string } | null> {
  if (!telemetry.metrics) return null;
  const { host, port } = telemetry.metrics;
  const server = createHttpServer(listener);
  return { server, url: `http://${host}:${await listenOn(server, port, host, METRICS_LISTENER)}/metrics` };
}

/** Migrations: applied at start-up (DB_MIGRATE=auto) or only checked, so the application user needs no DDL authority. */
async function prepareHost(db: DbConfig, host: Host, app: App): Promise<MigrateResult> {
  if (db.migrate === 'auto') return migrate(host, { seedDemoData: db.demoData ? (account, pin) => app.auth.digestPin(account, pin) : undefined });
  await checkSchema(host);
  return { applied: [], seeded: false };
}

export async function start(config: Config, options: StartOptions = {}): Promise<Running> {
  const { tracing: traced, logLevel } = config.telemetry;
  const tracing = traced ? await startTracing({ serviceName: traced.serviceName, version: API_VERSION }) : null;
  const logger = options.logger ?? createLogger(logLevel, undefined, tracing ? traceIdsOfActiveSpan : undefined);
  const runtime = { logger, tracing };
  // Whoever opens the host closes it: a host passed in stays open after stop().
  if (options.host) return serve(config, options.host, options, runtime, async () => undefined);
  const host = await openConfiguredHost(config.db, logger);
  try {
    return await serve(config, host, options, runtime, () => host.close());
  } catch (error) {
    await host.close().catch(() => undefined); // releases the data folder and the pool it opened
    await tracing?.shutdown();
    throw error;
  }
}

async function serve(
  config: Config, host: Host, options: StartOptions, { logger, tracing }: { logger: Logger; tracing: Tracing | null },
  closeHost: () => Promise<void>,
): Promise<Running> {
  const { secret, pinPepper, source } = await resolveSecrets(config);
  if (source.jwtSecret !== 'JWT_SECRET' || source.pinPepper !== 'PIN_PEPPER') {
    logger.warn({ source }, 'using development secrets; set JWT_SECRET and PIN_PEPPER in production');
  }
  const sharedState = await openSharedState(config.auth, new Date());
  if (config.env === 'production') {
    if (!config.auth.redisUrl) {
      logger.warn({ sharedState: sharedState.description },
        'REDIS_URL is not set: used DPoP proofs and login counts are shared by this instance\'s workers only; set it when more than one instance serves');
    }
    if (host.dialect === 'postgres' && config.db.target.kind === 'pglite') {
      logger.warn({ host: host.description }, 'production on the embedded host: it is for development and demos (one process, no replica); set DB_URL to your Db2 or PostgreSQL host');
    }
  }
  const app = createApp({ config, host, secret, pinPepper, logger, tracer: tracing?.tracer ?? null, sharedState, clock: () => new Date() });
  let migrated: MigrateResult;
  try {
    migrated = await prepareHost(config.db, host, app);
  } catch (error) {
    await sharedState.close();
    throw error;
  }
  logger.info({ host: host.description, sharedState: sharedState.description, ...migrated }, 'host ready');

  const { http } = config;
  const server = listen(config, app);
  let url: string;
  let metrics: { server: Server; url: string } | null;
  try {
    url = `${http.tls ? 'https' : 'http'}://${http.address}:${await listenOn(server, http.port, http.address, API_LISTENER)}`;
    // In a cluster the primary serves every worker's metrics as one scrape; a worker only answers it.
    if (cluster.isWorker) shareMetricsWithPrimary(app.metrics.registry);
    metrics = cluster.isWorker ? null : await listenForMetrics(config.telemetry, app.metricsListener);
  } catch (error) {
    server.close();
    app.dispose();
    await sharedState.close();
    throw error;
  }
  const stopPurge = options.purge === false ? () => undefined
    : startPurgeTimer(host, { ...config.purge, lockSeconds: config.auth.lockSeconds, clock: () => new Date(), logger });
  const metricsUrl = metrics?.url ?? null;
  logger.info({ url, docs: `${url}/docs`, metrics: metricsUrl }, 'listening');

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      app.lifecycle.draining = true;
      stopPurge();
      metrics?.server.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = new Promise<void>((resolve) => setTimeout(resolve, http.shutdownGraceSeconds * 1000).unref());
      await Promise.race([closed, grace]);
      server.closeAllConnections(); // whatever outlived the grace period
      await closed;
      app.dispose();
      await sharedState.close();
      await closeHost();
      await tracing?.shutdown(); // exports the last spans
      logger.info('stopped');
    })();
    return stopping;
  };
  return { server, app, url, metricsUrl, migrated, stop };
}

/**
 * SIGTERM/SIGINT from the moment start-up begins (a signal that arrives while
 * the server is still starting is not lost): drain once started, then exit 0
 * (1 if draining failed). Further signals while draining are absorbed: Ctrl-C
 * reaches npm and the server alike, and npm forwards one more.
 */
export function exitOnSignals(starting: Promise<Running>): void {
  let signalled = false;
  const shutdown = (): void => {
    if (signalled) return;
    signalled = true;
    starting.then((running) => running.stop()).then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

/**
 * The primary of a cluster: forks WORKERS workers sharing the port and
 * replaces any that dies; keeps their used DPoP proofs and login counts when
 * there is no Redis; serves their metrics as one scrape.
 */
async function runPrimary(config: Config): Promise<void> {
  const logger = createLogger(config.telemetry.logLevel);
  if (!config.auth.redisUrl) shareStateWithWorkers(new Date());
  const metrics = await listenForMetrics(config.telemetry, clusterMetricsListener());
  if (metrics) logger.info({ metrics: metrics.url }, 'serving the workers\' metrics');
  let shuttingDown = false;
  const fork = (index: number) => cluster.fork({ WORKER_INDEX: String(index) }).on('exit', (code, signal) => {
    if (shuttingDown) return;
    logger.error({ index, code, signal }, 'worker died; starting a replacement');
    setTimeout(() => fork(index), 1000).unref();
  });
  for (let i = 0; i < config.http.workers; i++) fork(i);
  const shutdown = (): void => {
    if (shuttingDown) return; // a second signal (npm forwards Ctrl-C once more) changes nothing
    shuttingDown = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    const deadline = setTimeout(() => process.exit(1), (config.http.shutdownGraceSeconds + 5) * 1000);
    deadline.unref();
    cluster.on('exit', () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
    });
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

/** Starts this process as configured: a cluster primary, or a server. */
async function startProcess(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const line of error.lines()) process.stderr.write(`${line}\n`);
      process.exit(2);
    }
    throw error;
  }
  if (config.http.workers > 1 && cluster.isPrimary) {
    await runPrimary(config);
    return;
  }
  // In a cluster, the worker the primary numbered 0 runs the purge (its replacement too).
  const purge = cluster.isPrimary || config.http.workerIndex === 0;
  const starting = start(config, { purge });
  exitOnSignals(starting);
  await starting;
}

/**
 * The process's entry, `node dist/app/server.js` (and `npm start`, through
 * scripts/start.mjs, once the build is fresh): a failed start says why in
 * one line and exits 1; a configuration error lists every problem and exits 2.
 */
export function main(): void {
  startProcess().catch((error: unknown) => {
    process.stderr.write(`start-up failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
