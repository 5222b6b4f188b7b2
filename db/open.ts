// Opens the host named by DB_URL. The drivers' own modules do nothing at
// import; the one optional native binding (ibm_db) is imported only when a
// Db2 host is opened, so its absence never breaks the other drivers.
import { openDb2 } from './db2/driver.js';
import type { Host, HostWarning } from './host.js';
import { openPglite } from './pg/pglite.js';
import { openPgServer } from './pg/server.js';

export interface HostOptions {
  poolSize: number;
  acquireTimeoutMs: number;
  statementTimeoutMs: number;
  /** How long a statement waits for a row lock before it fails (Db2 LockTimeout; PostgreSQL lock_timeout). */
  lockTimeoutMs: number;
  onIdleError?: (error: Error) => void;
  /** Told once about every statement the host completed with a warning (Db2). */
  onWarning?: (warning: HostWarning) => void;
}

export const DEFAULT_HOST_OPTIONS: HostOptions = { poolSize: 10, acquireTimeoutMs: 1000, statementTimeoutMs: 10_000, lockTimeoutMs: 5000 };

export async function openHost(url: string, options: HostOptions = DEFAULT_HOST_OPTIONS): Promise<Host> {
  if (url.startsWith('pglite:')) return openPglite(url.slice('pglite:'.length) || 'memory');
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return openPgServer(url, options);
  if (url.startsWith('db2://')) return openDb2(url, options);
  throw new Error(`DB_URL must start with pglite:, postgres:// or db2:// (got scheme ${url.split(':')[0]})`);
}
