// The host the configuration names, opened with its pool and timeouts, its
// driver's warnings going to the log: for the server and `npm run db:migrate`.
import type { Logger } from 'pino';
import type { Host, HostOptions } from '../db/host.js';
import { openHost } from '../db/open.js';
import type { DbConfig } from './config.js';

export function openConfiguredHost(db: DbConfig, logger: Logger, overrides: Partial<HostOptions> = {}): Promise<Host> {
  return openHost(db.target, {
    ...db.options,
    onIdleError: (error) => logger.warn({ err: error }, 'idle host connection failed'),
    onWarning: (warning) => logger.warn({ warning }, 'host completed a statement with a warning'),
    ...overrides,
  });
}
