// The part of ibm_db this project uses, typed, and its lazy loader. ibm_db is
// an optional dependency: it is imported only when DB_URL names a Db2 host,
// and its absence is one clear error, never a crash at import time.

export interface Db2Param {
  ParamType: 'INPUT' | 'OUTPUT' | 'INOUT';
  DataType: string;
  Data: unknown;
  Length?: number;
}

/** What ibm_db passes to callbacks: SQLSTATE in `state`, SQLCODE in `sqlcode`. */
export interface Db2Error extends Error {
  state?: string;
  sqlcode?: number;
}

export interface Db2Connection {
  query(sql: string, params: unknown[], callback: (error: Db2Error | null, result: unknown) => void): void;
  beginTransaction(callback: (error: Db2Error | null) => void): void;
  commitTransaction(callback: (error: Db2Error | null) => void): void;
  rollbackTransaction(callback: (error: Db2Error | null) => void): void;
  /** Gives a pooled connection back to the pool. */
  close(callback: (error: Db2Error | null) => void): void;
  /** Really closes a pooled connection (ibm_db's Pool keeps the original close here). */
  realClose?(callback: (error: Db2Error | null) => void): void;
}

export interface Db2Pool {
  open(connectionString: string, callback: (error: Db2Error | null, connection: Db2Connection) => void): void;
  close(callback: (error: Db2Error | null) => void): void;
}

export interface Db2Binding {
  Pool: new (options: { maxPoolSize: number; connectTimeout?: number }) => Db2Pool;
}

export class Db2DriverMissing extends Error {
  constructor(cause: unknown) {
    super('DB_URL names a Db2 host, but the optional driver ibm_db is not usable here: '
      + 'run `npm install ibm_db` on a machine that can download IBM\'s CLI driver (or set IBM_DB_HOME to an installed clidriver)',
    { cause });
    this.name = 'Db2DriverMissing';
  }
}

export async function loadIbmDb(): Promise<Db2Binding> {
  try {
    const module = await import('ibm_db' as string) as { default?: Db2Binding } & Db2Binding;
    return module.default ?? module;
  } catch (error) {
    throw new Db2DriverMissing(error);
  }
}
