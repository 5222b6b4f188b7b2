// Opens the host named by DB_URL. Drivers are imported only when named, so a
// missing optional driver (ibm_db) never breaks the others.
import type { Host } from './host.js';

export interface HostOptions {
  poolSize: number;
  acquireTimeoutMs: number;
  statementTimeoutMs: number;
  onIdleError?: (error: Error) => void;
}

export const DEFAULT_HOST_OPTIONS: HostOptions = { poolSize: 10, acquireTimeoutMs: 2000, statementTimeoutMs: 10_000 };

export async function openHost(url: string, options: HostOptions = DEFAULT_HOST_OPTIONS): Promise<Host> {
  if (url.startsWith('pglite:')) {
    const { openPglite } = await import('./pg/pglite.js');
    return openPglite(url.slice('pglite:'.length) || 'memory');
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const { openPgServer } = await import('./pg/server.js');
    return openPgServer(url, options);
  }
  if (url.startsWith('db2://')) {
    const { openDb2 } = await import('./db2/driver.js');
    return openDb2(url, options);
  }
  throw new Error(`DB_URL must start with pglite:, postgres:// or db2:// (got scheme ${url.split(':')[0]})`);
}
