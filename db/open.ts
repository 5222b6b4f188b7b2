// Opens the host named by DB_URL. Each driver is loaded when its kind of host
// is opened: a start loads one driver's modules, not three (npm start's
// restart time), and the one optional native binding (ibm_db) is never
// loaded unless a Db2 host is opened, so its absence never breaks the others.
import { DEFAULT_HOST_OPTIONS, hostTarget, type Host, type HostOptions, type HostTarget } from './host.js';

/** The host a DB_URL (or a target parsed from one) names, opened. */
export async function openHost(where: string | HostTarget, options: HostOptions = DEFAULT_HOST_OPTIONS): Promise<Host> {
  const target = typeof where === 'string' ? hostTarget(where) : where;
  if (!target) throw new Error(`DB_URL must start with pglite:, postgres:// or db2:// (got scheme ${String(where).split(':')[0]})`);
  switch (target.kind) {
    case 'pglite': return (await import('./pg/pglite.js')).openPglite(target.folder ?? 'memory');
    case 'postgres': return (await import('./pg/server.js')).openPgServer(target.url, options);
    case 'db2': return (await import('./db2/driver.js')).openDb2(target.url, options);
  }
}
