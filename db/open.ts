// Opens the host named by DB_URL. The drivers' own modules do nothing at
// import; the one optional native binding (ibm_db) is imported only when a
// Db2 host is opened, so its absence never breaks the other drivers.
import { openDb2 } from './db2/driver.js';
import { DEFAULT_HOST_OPTIONS, hostTarget, type Host, type HostOptions, type HostTarget } from './host.js';
import { openPglite } from './pg/pglite.js';
import { openPgServer } from './pg/server.js';

/** The host a DB_URL (or a target parsed from one) names, opened. */
export async function openHost(where: string | HostTarget, options: HostOptions = DEFAULT_HOST_OPTIONS): Promise<Host> {
  const target = typeof where === 'string' ? hostTarget(where) : where;
  if (!target) throw new Error(`DB_URL must start with pglite:, postgres:// or db2:// (got scheme ${String(where).split(':')[0]})`);
  switch (target.kind) {
    case 'pglite': return openPglite(target.folder ?? 'memory');
    case 'postgres': return openPgServer(target.url, options);
    case 'db2': return openDb2(target.url, options);
  }
}
