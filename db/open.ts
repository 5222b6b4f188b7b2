// Opens the host named by DB_URL. The drivers' own modules do nothing at
// import; the one optional native binding (ibm_db) is imported only when a
// Db2 host is opened, so its absence never breaks the other drivers.
import { DEFAULT_CONNECT_TIMEOUT_MS, openDb2 } from './db2/driver.js';
import type { Host, HostWarning } from './host.js';
import { openPglite } from './pg/pglite.js';
import { openPgServer } from './pg/server.js';

export interface HostOptions {
  poolSize: number;
  /** How long a call waits for a pooled connection, a new one's connect included, before it fails (503). */
  acquireTimeoutMs: number;
  /**
   * How long the driver's login may take (Db2: SQL_ATTR_LOGIN_TIMEOUT, whole
   * seconds, default 10 s): TLS and authentication through Db2 Connect can
   * outlast the acquire timeout. A connect slower than acquireTimeoutMs fails
   * that call, but still completes into the pool for the next one.
   */
  connectTimeoutMs?: number;
  /**
   * Db2: SQL_ATTR_QUERY_TIMEOUT, rounded up to whole seconds; the CLI checks
   * once per QueryTimeoutInterval (the driver sets 1 s), so a statement of
   * timeout N s is cancelled between N and N + 1 s after it started.
   */
  statementTimeoutMs: number;
  /** How long a statement waits for a row lock before it fails (Db2 LockTimeout; PostgreSQL lock_timeout). */
  lockTimeoutMs: number;
  onIdleError?: (error: Error) => void;
  /** Told once about every statement the host completed with a warning (Db2). */
  onWarning?: (warning: HostWarning) => void;
}

export const DEFAULT_HOST_OPTIONS: HostOptions = {
  poolSize: 10, acquireTimeoutMs: 1000, connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS, statementTimeoutMs: 10_000, lockTimeoutMs: 5000,
};

export async function openHost(url: string, options: HostOptions = DEFAULT_HOST_OPTIONS): Promise<Host> {
  if (url.startsWith('pglite:')) return openPglite(url.slice('pglite:'.length) || 'memory');
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return openPgServer(url, options);
  if (url.startsWith('db2://')) return openDb2(url, options);
  throw new Error(`DB_URL must start with pglite:, postgres:// or db2:// (got scheme ${url.split(':')[0]})`);
}
