// The server entry: config, host, secret, migrations, HTTP or HTTPS listener,
// purge timer, graceful shutdown, and (WORKERS > 1) a cluster of workers.
// Nothing runs until main() or start() is called.
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import type { Host } from '../db/host.js';
import { migrate, type MigrateResult } from '../db/migrate.js';
import { openHost } from '../db/open.js';
import { createApp, type App } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger } from './logger.js';
import { startPurgeTimer } from './purge.js';
import { resolveSecret } from './secret.js';

export interface Running {
  server: Server;
  app: App;
  url: string;
  /** What start-up did to the host: migrations applied, demo data seeded. */
  migrated: MigrateResult;
  /** Drains: readiness 503, no new connections, in-flight requests finish (bounded), host closed. */
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
  if (!config.tlsCert || !config.tlsKey) return createHttpServer(handler);
  // HTTPS only on this port, TLS 1.2 or newer; HSTS comes from helmet on every response.
  return createHttpsServer({
    cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey), minVersion: 'TLSv1.2',
  }, handler);
}

export async function start(config: Config, options: StartOptions = {}): Promise<Running> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const host = options.host ?? await openHost(config.dbUrl, {
    poolSize: config.dbPoolSize, acquireTimeoutMs: 1000, statementTimeoutMs: 10_000,
    onIdleError: (error) => logger.warn({ err: error }, 'idle host connection failed'),
  });
  const { secret, source } = await resolveSecret(config);
  if (source !== 'JWT_SECRET') logger.warn({ source }, 'using a development secret; set JWT_SECRET in production');
  const app = createApp({ config, host, secret, logger });
  const migrated = await migrate(host, { seedDemoData: config.demoData ? app.auth.pinDigest : undefined });
  logger.info({ host: host.description, ...migrated }, 'host ready');

  const stopPurge = options.purge === false ? () => undefined : startPurgeTimer(host, {
    intervalSeconds: config.purgeIntervalSeconds, auditRetentionDays: config.auditRetentionDays,
    clock: () => new Date(), logger,
  });
  const server = listen(config, app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `${config.tlsCert ? 'https' : 'http'}://${config.host}:${port}`;
  logger.info({ url, docs: `${url}/docs` }, 'listening');

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      app.lifecycle.draining = true;
      stopPurge();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = new Promise<void>((resolve) => setTimeout(resolve, config.shutdownGraceSeconds * 1000).unref());
      await Promise.race([closed, grace]);
      server.closeAllConnections(); // whatever outlived the grace period
      await closed;
      await host.close();
      logger.info('stopped');
    })();
    return stopping;
  };
  return { server, app, url, migrated, stop };
}

/** SIGTERM/SIGINT: drain, then exit 0 (1 if draining failed). */
export function exitOnSignals(running: Running): void {
  const shutdown = (): void => {
    running.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

/** The primary of a cluster: forks WORKERS workers sharing the port and replaces any that dies. */
function runPrimary(config: Config): void {
  const logger = createLogger(config.logLevel);
  let shuttingDown = false;
  const fork = (index: number) => cluster.fork({ WORKER_INDEX: String(index) }).on('exit', (code, signal) => {
    if (shuttingDown) return;
    logger.error({ index, code, signal }, 'worker died; starting a replacement');
    setTimeout(() => fork(index), 1000).unref();
  });
  for (let i = 0; i < config.workers; i++) fork(i);
  const shutdown = (): void => {
    shuttingDown = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    const deadline = setTimeout(() => process.exit(1), (config.shutdownGraceSeconds + 5) * 1000);
    deadline.unref();
    cluster.on('exit', () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
    });
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`configuration error: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  if (config.workers > 1 && cluster.isPrimary) {
    runPrimary(config);
    return;
  }
  const purge = cluster.isPrimary || process.env.WORKER_INDEX === '0';
  exitOnSignals(await start(config, { purge }));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    process.stderr.write(`start-up failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
