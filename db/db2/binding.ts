// The part of ibm_db 4.x this project uses, typed as its JavaScript layer
// (lib/odbc.js) presents it, and its lazy loader: ibm_db is an optional
// dependency, imported only when DB_URL names a Db2 host.

/**
 * A parameter as lib/odbc.js's parseParams reads it. Only DataTypes parseParams
 * knows are used: 'CHAR' binds text (the native layer widens it to VARCHAR),
 * 'BIGINT' an integer, 'DOUBLE' a floating-point number.
 */
export interface Db2Param {
  ParamType: 'INPUT' | 'OUTPUT';
  DataType: 'CHAR' | 'BIGINT' | 'DOUBLE';
  Data: string | number | null;
  /** Bytes of the output buffer; without it an OUTPUT text parameter gets 4. */
  Length?: number;
}

/** An executed statement's cursor (ODBCResult). */
export interface Db2Result {
  fetchAll(callback: (error: unknown, rows: unknown, columnCount?: number) => void): unknown;
  /** The statement handle's first diagnostic record: after an execute, its warning, if any. */
  getSQLErrorSync(): unknown;
  closeSync(): unknown;
}

/** A statement handle (ODBCStatement, wrapped by lib/odbc.js). */
export interface Db2Statement {
  prepare(sql: string, callback: (error: unknown) => void): unknown;
  /** Whoever makes the statement sets this, as Database.prepare does: execute reports connection errors to it. */
  db?: Db2Database;
  setAttrSync(attribute: number, value: number): unknown;
  execute(params: Db2Param[] | null, callback: (error: unknown, result?: Db2Result | null, outParams?: unknown) => void): unknown;
  closeSync(): unknown;
}

/** The native connection (ODBCConnection) under a lib/odbc.js Database. */
export interface Db2Connection {
  createStatement(callback: (error: unknown, statement?: Db2Statement) => void): unknown;
}

/** A connection (lib/odbc.js Database); the Pool hands these out. */
export interface Db2Database {
  readonly connected: boolean;
  /** Absent once the connection is closed. */
  readonly conn?: Db2Connection;
  /** On SQL30081N, disconnects a pooled connection and its idle siblings: lib/odbc.js calls it after every failed statement step. */
  checkConnectionError?(error: unknown): void;
  prepare(sql: string, callback: (error: unknown, statement?: Db2Statement) => void): unknown;
  beginTransaction(callback: (error: unknown) => void): unknown;
  commitTransaction(callback: (error: unknown) => void): unknown;
  rollbackTransaction(callback: (error: unknown) => void): unknown;
  setAttr(attribute: number, value: string, callback: (error: unknown) => void): unknown;
  /** On a pooled connection: gives it back to the Pool (Database.prototype.poolClose). */
  close(callback: (error: unknown) => void): unknown;
  /** On a pooled connection: the real disconnect, which the Pool's bookkeeping never sees. */
  realClose?(callback: (error: unknown) => void): unknown;
}

export interface Db2PoolOptions {
  maxPoolSize: number;
  /**
   * Whole seconds: SQL_ATTR_LOGIN_TIMEOUT of every connection the Pool opens
   * (ODBCConnection::SetConnectionAttributes). The Pool turns 0 into 60
   * (`connectTimeout || 60`), and ibm_db turns anything above 32767 into 30.
   */
  connectTimeout: number;
}

/** lib/odbc.js Pool: connections by connection string, in use and idle. */
export interface Db2Pool {
  readonly poolSize: number;
  readonly usedPool: Partial<Record<string, Db2Database[]>>;
  readonly availablePool: Partial<Record<string, Db2Database[]>>;
  open(connectionString: string, callback: (error: unknown, database?: Db2Database) => void): unknown;
  close(callback: () => void): unknown;
}

export interface Db2Binding {
  Pool: new (options: Db2PoolOptions) => Db2Pool;
}

/**
 * What ibm_db reports: ODBC::GetSQLError (src/odbc.cpp) builds an Error with
 * `sqlstate`, `sqlcode` and `error`; lib/odbc.js also passes plain objects of
 * that shape ("Connection not open.").
 */
export interface Db2Diagnostic {
  message: string;
  sqlstate?: string;
  sqlcode?: number;
}

export function diagnosticOf(value: unknown): Db2Diagnostic {
  if (typeof value !== 'object' || value === null) return { message: String(value) };
  const message = 'message' in value && typeof value.message === 'string' ? value.message : String(value);
  const sqlstate = 'sqlstate' in value && typeof value.sqlstate === 'string' && value.sqlstate !== '' ? value.sqlstate : undefined;
  const sqlcode = 'sqlcode' in value && typeof value.sqlcode === 'number' ? value.sqlcode : undefined;
  return { message, ...(sqlstate === undefined ? {} : { sqlstate }), ...(sqlcode === undefined ? {} : { sqlcode }) };
}

export function isDb2Binding(value: unknown): value is Db2Binding {
  return (typeof value === 'object' || typeof value === 'function') && value !== null
    && 'Pool' in value && typeof value.Pool === 'function';
}

export class Db2DriverMissing extends Error {
  constructor(cause: unknown) {
    super('DB_URL names a Db2 host, but the optional driver ibm_db is not usable here: '
      + 'run `npm install ibm_db` on a machine that can download IBM\'s CLI driver (or set IBM_DB_HOME to an installed clidriver)',
    { cause });
    this.name = 'Db2DriverMissing';
  }
}

/**
 * ibm_db's Linux build has UNICODE off: it hands the CLI a string's UTF-8
 * bytes and reads text back as UTF-8 (src/odbc.cpp GetStringParam,
 * GetColumnValue). The CLI reads and writes those bytes in the application
 * code page, DB2CODEPAGE or else the locale's, taken at connect: in a
 * container without LANG that is ISO 8859-1, so é is stored as "Ã©" (and can
 * overflow its column, 22001), and text stored by others reads back as U+FFFD
 * (ibm_db issues #471, #473, #579, #913). 1208 is UTF-8. An operator's own
 * setting stands.
 */
export function preferUtf8CodePage(env: NodeJS.ProcessEnv = process.env): void {
  if (!env.DB2CODEPAGE?.trim()) env.DB2CODEPAGE = '1208';
}

/** `importModule` stands in for the import in tests; DB2CODEPAGE is settled before it runs. */
export async function loadIbmDb(importModule: () => Promise<unknown> = () => import('ibm_db' as string)): Promise<Db2Binding> {
  preferUtf8CodePage();
  let loaded: unknown;
  try {
    loaded = await importModule();
  } catch (error) {
    throw new Db2DriverMissing(error);
  }
  const candidate = typeof loaded === 'object' && loaded !== null && 'default' in loaded ? loaded.default : loaded;
  if (!isDb2Binding(candidate)) throw new Db2DriverMissing(new Error('ibm_db loaded, but exports no Pool'));
  return candidate;
}
