// The server entry: config, secret, host, migrations, HTTP(S) listener,
// purge timer and graceful shutdown. Nothing runs until start() is called.
import { createServer, type Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import { openHost } from '../db/open.js';
import { migrate } from '../db/migrate.js';
import { createApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger } from './logger.js';
import { startPurgeTimer } from './purge.js';
import { resolveSecret } from './secret.js';

export interface Running {
  server: Server;
  url: string;
  stop(): Promise<void>;
}

export async function start(config: Config): Promise<Running> {
  const logger = createLogger(config.logLevel);
  const host = await openHost(config.dbUrl, {
    poolSize: config.dbPoolSize, acquireTimeoutMs: 2000, statementTimeoutMs: 10_000,
    onIdleError: (error) => logger.warn({ err: error }, 'idle host connection failed'),
  });
  const { secret, source } = await resolveSecret(config);
  if (source !== 'JWT_SECRET') logger.warn({ source }, 'using a development secret; set JWT_SECRET in production');
  const app = createApp({ config, host, secret, logger });
  const migrated = await migrate(host, { seedDemoData: config.demoData ? app.auth.pinDigest : undefined });
  logger.info({ host: host.description, ...migrated }, 'host ready');

  const stopPurge = startPurgeTimer(host, {
    intervalSeconds: config.purgeIntervalSeconds, auditRetentionDays: config.auditRetentionDays,
    clock: () => new Date(), logger,
  });
  const server = createServer(app.koa.callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host}:${port}`;
  logger.info({ url, docs: `${url}/docs` }, 'listening');

  return {
    server,
    url,
    async stop() {
      stopPurge();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await host.close();
    },
  };
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
  const running = await start(config);
  const shutdown = (): void => {
    running.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    process.stderr.write(`start-up failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
