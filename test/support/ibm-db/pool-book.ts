// Bookkeeping to check against: what ibm_db's Pool counts for one connection
// string, beside the connections the scripted Db2 sees.
import type { Db2Pool } from '../../../db/db2/binding.js';
import type { Db2Fixture } from './host.js';

/** What ibm_db's Pool holds for one connection string: in use, idle and connected, and its own count. */
export function poolBook(pool: Db2Pool, connectionString: string): { counted: number; inUse: number; idleConnected: number; idleClosed: number } {
  const idle = pool.availablePool[connectionString] ?? [];
  return {
    counted: pool.poolSize,
    inUse: pool.usedPool[connectionString]?.length ?? 0,
    idleConnected: idle.filter((db) => db.connected).length,
    idleClosed: idle.filter((db) => !db.connected).length,
  };
}

/** ibm_db's own count of a fixture's connections, beside the connections and handles Db2 sees. */
export function book({ connectionString, db2, pool }: Db2Fixture) {
  return { ...poolBook(pool(), connectionString), db2Open: db2.openConnections, db2Handles: db2.connectedHandles };
}
