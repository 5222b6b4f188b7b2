// The Db2 host as production builds it, over ibm_db's real JavaScript layer
// and a scripted Db2: the Pool objects it creates are kept for inspection,
// and its warnings collected.
import { loadIbmDb, type Db2Pool, type Db2PoolOptions } from '../../../db/db2/binding.js';
import { parseDb2Url } from '../../../db/db2/connection.js';
import { Db2Host, openDb2, type Db2HostOptions, type Db2Warning } from '../../../db/db2/driver.js';
import type { Host } from '../../../db/host.js';
import { scriptedIbmDb, type IbmDb } from './loader.js';
import type { ScriptedDb2 } from './server.js';

export const DB2_URL = 'db2://db2inst1:s3cret@db2.example.internal:50000/BANKDB?schema=bank';

export interface Db2Fixture {
  host: Db2Host;
  /** The key ibm_db's Pool files this host's connections under. */
  connectionString: string;
  db2: ScriptedDb2;
  ibmdb: IbmDb;
  /** ibm_db's own Pool, to check its bookkeeping (poolSize, usedPool, availablePool). */
  pool: () => Db2Pool;
  warnings: Db2Warning[];
}

export const DEFAULT_TEST_OPTIONS: Db2HostOptions = {
  poolSize: 4, acquireTimeoutMs: 5000, connectTimeoutMs: 5000, statementTimeoutMs: 10_000, lockTimeoutMs: 5000,
};

/** ibm_db's Pool, subclassed so every Pool the host makes is kept. */
function watchedPools(ibmdb: IbmDb): { Pool: IbmDb['Pool']; pools: Db2Pool[] } {
  const pools: Db2Pool[] = [];
  const IbmDbPool = ibmdb.Pool;
  class WatchedPool extends IbmDbPool {
    constructor(poolOptions: Db2PoolOptions) {
      super(poolOptions);
      pools.push(this);
    }
  }
  return { Pool: WatchedPool, pools };
}

export function openScriptedHost(options: Partial<Db2HostOptions> = {}, url = DB2_URL): Db2Fixture {
  const { db2, ibmdb } = scriptedIbmDb();
  const { Pool, pools } = watchedPools(ibmdb);
  const warnings: Db2Warning[] = [];
  const target = parseDb2Url(url);
  const host = new Db2Host(target, { Pool }, { ...DEFAULT_TEST_OPTIONS, onWarning: (w) => warnings.push(w), ...options });
  const pool = () => {
    const [only] = pools;
    if (!only) throw new Error('the host created no ibm_db Pool');
    return only;
  };
  return { host, connectionString: target.connectionString, db2, ibmdb, pool, warnings };
}

/**
 * The host as openHost makes it for DB_URL=db2://…, through the driver's own
 * loader, with ibm_db over the scripted Db2. Like production it sets
 * process.env.DB2CODEPAGE: a test that uses it puts the environment back.
 */
export async function openScriptedHostAsStarted(options: Partial<Db2HostOptions> = {}): Promise<{ host: Host; db2: ScriptedDb2 }> {
  const { db2, ibmdb } = scriptedIbmDb();
  const host = await openDb2(DB2_URL, { ...DEFAULT_TEST_OPTIONS, ...options }, () => loadIbmDb(() => Promise.resolve(ibmdb)));
  return { host, db2 };
}

/** A gate a scripted statement waits on until the test opens it. */
export function gate(): { wait: () => Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait: () => opened, open };
}
