// A stand-in for ibm_db 4.0.1's native addon (odbc_bindings), so its own
// lib/odbc.js runs unmodified over it: the classes and methods src/*.cpp
// expose, their argument checks, their callbacks' shapes, and the quirks
// (a warning from Query is an error; an open returning SQL_SUCCESS_WITH_INFO
// fails), with the CLI and the server below played by ScriptedDb2.
import {
  DIAGNOSTICS, SQL_ATTR, SQL_C, SQL_ERROR, SQL_NO_DATA, SQL_SUCCESS, SQL_TYPE,
  type BoundParameter, type Column, type Db2Value, type Diagnostic, type OutputBuffer, type ScriptedDb2, type Session,
} from './ibm-db-server.js';

type Callback = (...args: unknown[]) => unknown;

const SQL_CLOSE = 0;
const SQL_DROP = 1;
const FETCH_ARRAY = 3;
const FETCH_OBJECT = 4;
const SQL_PARAM_INPUT = 1;

const isCallback = (value: unknown): value is Callback => typeof value === 'function';

/** REQ_FUN_ARG, REQ_STRO_ARG, REQ_INT_ARG, REQ_BOOL_ARG (src/odbc.h): a TypeError thrown at the call. */
function requireFunction(value: unknown, index: number): Callback {
  if (!isCallback(value)) throw new TypeError(`Argument ${index} must be a function`);
  return value;
}
function requireString(value: unknown, index: number): string {
  if (typeof value !== 'string') throw new TypeError(`Argument ${index} must be a string`);
  return value;
}
function requireInt(value: unknown, index: number): number {
  if (typeof value !== 'number') throw new TypeError(`Argument ${index} invalid`);
  return value | 0;
}
function requireBoolean(value: unknown, index: number): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`Argument ${index} must be a boolean`);
  return value;
}

function notModelled(what: string): never {
  throw new Error(`ibm_db addon stand-in: ${what} is not modelled`);
}

/**
 * ODBC::GetSQLError (src/odbc.cpp): an Error whose message is the first
 * diagnostic record's text, with `error` (the call site's label), `sqlcode`
 * (native error) and `sqlstate`. No record: empty message, state '' and 0.
 */
export function sqlError(diagnostic: Diagnostic | null, label: string): Error {
  return Object.assign(new Error(diagnostic?.message ?? ''), {
    error: label, sqlcode: diagnostic?.sqlcode ?? 0, sqlstate: diagnostic?.sqlstate ?? '',
  });
}

/** uv_queue_work: the work off the loop, the callback on a later turn; a throw in the callback is uncaught, as PropagateCallbackException makes it. */
function uv<T>(work: () => T | Promise<T>, after: (result: T) => void): void {
  Promise.resolve().then(work).then(
    (result) => setImmediate(() => after(result)),
    (error: unknown) => setImmediate(() => {
      throw error;
    }),
  );
}

const toInt32 = (value: number) => value | 0;

/** ODBC::GetParametersFromArray with GetStringParam, GetInt32Param, GetNumberParam, GetBoolParam and GetNullParam (UNICODE off). */
export function parametersFromArray(values: unknown[]): BoundParameter[] {
  return values.map((value) => {
    const param: BoundParameter = { paramType: SQL_PARAM_INPUT, cType: 0, sqlType: 0, bufferLength: 0, buffer: { kind: 'null' } };
    let data: unknown = value;
    if (Array.isArray(value)) {
      if (value.length < 4) throw new Error('Wrong param format!');
      const items: unknown[] = value;
      const [paramType, cType, sqlType, inner, bufferLength] = items;
      param.paramType = typeof paramType === 'number' ? toInt32(paramType) : SQL_PARAM_INPUT;
      param.cType = typeof cType === 'number' ? toInt32(cType) : SQL_C.CHAR;
      param.sqlType = typeof sqlType === 'number' ? toInt32(sqlType) : SQL_TYPE.CHAR;
      if (value.length === 5 && typeof bufferLength === 'number') param.bufferLength = toInt32(bufferLength);
      data = inner;
      if (param.paramType === 3 || param.paramType === 5) notModelled('file and data-at-execution parameters');
      if (typeof data === 'number' && param.sqlType === SQL_TYPE.DECIMAL) {
        // A number bound as DECIMAL skips the numeric branches and goes in as its text.
        stringParam(param, String(data));
        return param;
      }
    }
    if (data === null || data === undefined) nullParam(param);
    else if (typeof data === 'number') {
      if (data === toInt32(data)) int32Param(param, data);
      else numberParam(param, data);
    } else if (typeof data === 'boolean') boolParam(param, data);
    else if (typeof data === 'string') stringParam(param, data);
    else if (Buffer.isBuffer(data) || Array.isArray(data)) notModelled('Buffer and array parameters');
    else if (Array.isArray(value)) stringParam(param, String(data));
    return param;
  });
}

function nullParam(param: BoundParameter): void {
  param.cType ||= SQL_C.DEFAULT;
  param.sqlType ||= SQL_TYPE.VARCHAR;
  param.buffer = { kind: 'null' };
}

function int32Param(param: BoundParameter, value: number): void {
  // Int32Value: only 32 bits of the number reach the 64-bit buffer.
  param.buffer = { kind: 'int64', value: BigInt(toInt32(value)) };
  param.cType = SQL_C.SBIGINT;
  if (param.sqlType === 0 || param.sqlType === SQL_TYPE.CHAR) param.sqlType = SQL_TYPE.BIGINT;
}

function numberParam(param: BoundParameter, value: number): void {
  param.buffer = { kind: 'double', value };
  // The C type is kept when the caller gave one: a BIGINT label stays on a double.
  if (param.cType === 0 || param.cType === SQL_C.CHAR) param.cType = SQL_C.DOUBLE;
  if (param.sqlType === 0 || param.sqlType === SQL_TYPE.CHAR) param.sqlType = SQL_TYPE.DECIMAL;
  param.bufferLength = 8;
}

function boolParam(param: BoundParameter, value: boolean): void {
  param.buffer = { kind: 'int64', value: value ? 1n : 0n };
  param.cType = SQL_C.SBIGINT;
  if (param.sqlType === 0 || param.sqlType === SQL_TYPE.CHAR) param.sqlType = SQL_TYPE.BIGINT;
}

function stringParam(param: BoundParameter, text: string): void {
  const length = Buffer.byteLength(text, 'utf8');
  if (param.cType === 0 || param.cType === SQL_C.CHAR) param.cType = SQL_C.CHAR;
  if (param.sqlType === 0 || param.sqlType === SQL_TYPE.CHAR) param.sqlType = length >= 8000 ? SQL_TYPE.LONGVARCHAR : SQL_TYPE.VARCHAR;
  let bufferLength = length + 1;
  // An output buffer is as long as the caller's Length asked, plus the terminator.
  if (bufferLength <= param.bufferLength && param.paramType % 2 === 0) bufferLength = param.bufferLength + 1;
  param.bufferLength = bufferLength;
  param.buffer = { kind: 'chars', value: text };
}

/** ODBC::GetOutputParameter: read by the SQL type the parameter was bound with. */
function outputValue(param: BoundParameter, written: OutputBuffer | undefined): unknown {
  if (!written || written.kind === 'null') return null;
  const numeric: number[] = [SQL_TYPE.INTEGER, SQL_TYPE.SMALLINT, SQL_TYPE.TINYINT, SQL_TYPE.BOOLEAN, SQL_TYPE.NUMERIC, SQL_TYPE.BIGINT,
    SQL_TYPE.DECIMAL, SQL_TYPE.FLOAT, SQL_TYPE.DECFLOAT, SQL_TYPE.REAL, SQL_TYPE.DOUBLE];
  if (numeric.includes(param.sqlType)) {
    if (written.kind !== 'number') notModelled(`text written to a numeric (SQL type ${param.sqlType}) parameter`);
    return written.value;
  }
  return written.kind === 'chars' ? written.value : String(written.value);
}

/** ODBC::GetColumnValue: the C type asked of SQLGetData follows the column's SQL type (SQL_DESC_CONCISE_TYPE under ODBC 3). */
function columnValue(db2: ScriptedDb2, column: Column, value: Db2Value): unknown {
  const base = column.type.replace(/\(.*$/, '').trim().toUpperCase();
  if (['INTEGER', 'SMALLINT'].includes(base)) return db2.getData(column, value, SQL_C.SLONG);
  if (['DECIMAL', 'NUMERIC', 'DECFLOAT', 'DOUBLE', 'FLOAT', 'REAL'].includes(base)) return db2.getData(column, value, SQL_C.DOUBLE);
  // TIMESTAMP is SQL_TYPE_TIMESTAMP (93), not the SQL_TIMESTAMP (11) the C++ turns into a Date: it, BIGINT and the rest come as text.
  return db2.getData(column, value, SQL_C.CHAR);
}

interface StatementHandle {
  session: Session;
  sql: string;
  params: BoundParameter[];
  queryTimeout: number;
  diagnostic: Diagnostic | null;
  cursor: { columns: Column[]; rows: Db2Value[][] } | null;
  freed: boolean;
}

export interface IbmDbAddon {
  ODBC: new () => object;
  ODBCConnection: abstract new (...args: never[]) => object;
  ODBCStatement: abstract new (...args: never[]) => object;
  ODBCResult: abstract new (...args: never[]) => object;
}

export function createIbmDbAddon(db2: ScriptedDb2): IbmDbAddon {
  function allocateStatement(session: Session, sql = ''): StatementHandle {
    db2.statementAllocated(session);
    return { session, sql, params: [], queryTimeout: 0, diagnostic: null, cursor: null, freed: false };
  }
  function freeStatement(handle: StatementHandle): void {
    if (handle.freed) return;
    handle.freed = true;
    handle.cursor = null;
    db2.statementFreed(handle.session);
  }

  class ODBCResult {
    #handle: StatementHandle;
    #canFreeHandle: boolean;
    #fetchMode = FETCH_OBJECT;

    constructor(handle: StatementHandle, canFreeHandle: boolean) {
      this.#handle = handle;
      this.#canFreeHandle = canFreeHandle;
    }

    get fetchMode(): number {
      return this.#fetchMode;
    }

    set fetchMode(value: unknown) {
      if (typeof value === 'number') this.#fetchMode = toInt32(value);
    }

    #rows(fetchMode: number): unknown[] {
      const cursor = this.#handle.cursor;
      if (!cursor) return [];
      const rows = cursor.rows.map((row) => {
        const values = cursor.columns.map((column, i) => columnValue(db2, column, row[i] ?? null));
        return fetchMode === FETCH_ARRAY ? values : Object.fromEntries(cursor.columns.map((column, i) => [column.name, values[i]]));
      });
      cursor.rows = [];
      return rows;
    }

    /** ODBCResult::FetchAll: (cb) or ({ fetchMode }, cb); answers (error|null, rows, columnCount). */
    fetchAll(first: unknown, second?: unknown): void {
      let fetchMode = this.#fetchMode;
      let callback: Callback;
      if (isCallback(first) && second === undefined) callback = first;
      else if (typeof first === 'object' && first !== null && isCallback(second)) {
        callback = second;
        if ('fetchMode' in first && typeof first.fetchMode === 'number') fetchMode = first.fetchMode;
      } else {
        throw new TypeError('ODBCResult::FetchAll(): 1 or 2 arguments are required. The last argument must be a callback function.');
      }
      uv(() => {
        const columnCount = this.#handle.cursor?.columns.length ?? 0;
        // No columns (a CALL, an UPDATE): SQLFetch's error is not reported, and no rows come back.
        return { rows: this.#rows(fetchMode), columnCount };
      }, ({ rows, columnCount }) => callback(null, rows, columnCount));
    }

    fetchAllSync(options?: unknown): unknown[] {
      const fetchMode = typeof options === 'object' && options !== null && 'fetchMode' in options && typeof options.fetchMode === 'number'
        ? options.fetchMode : this.#fetchMode;
      return this.#rows(fetchMode);
    }

    /** SQLMoreResults: these statements never return a second result set. */
    moreResultsSync(): boolean {
      return false;
    }

    getColumnNamesSync(): string[] {
      return this.#handle.cursor?.columns.map((c) => c.name) ?? [];
    }

    /** ODBCResult::GetSQLErrorSync: the statement handle's first diagnostic record, or an empty one. */
    getSQLErrorSync(): Error {
      return sqlError(this.#handle.diagnostic, '');
    }

    getAffectedRowsSync(): number {
      return 0;
    }

    /** ODBCResult::CloseSync: SQL_DROP frees the handle when this result owns it, else only closes the cursor. */
    closeSync(option?: unknown): boolean {
      const closeOption = typeof option === 'number' ? option : SQL_DROP;
      if (closeOption === SQL_DROP && this.#canFreeHandle) freeStatement(this.#handle);
      else this.#handle.cursor = null;
      return true;
    }

    close(first: unknown, second?: unknown): void {
      const closeOption = typeof first === 'number' ? first : SQL_DROP;
      const callback = requireFunction(typeof first === 'number' ? second : first, typeof first === 'number' ? 1 : 0);
      uv(() => this.closeSync(closeOption), () => callback(null));
    }

    fetch(): never { return notModelled('ODBCResult.fetch'); }
    fetchSync(): never { return notModelled('ODBCResult.fetchSync'); }
    fetchN(): never { return notModelled('ODBCResult.fetchN'); }
    fetchNSync(): never { return notModelled('ODBCResult.fetchNSync'); }
    getData(): never { return notModelled('ODBCResult.getData'); }
    getDataSync(): never { return notModelled('ODBCResult.getDataSync'); }
    getColumnMetadataSync(): never { return notModelled('ODBCResult.getColumnMetadataSync'); }
    bindFileToColSync(): never { return notModelled('ODBCResult.bindFileToColSync'); }
  }

  class ODBCStatement {
    #handle: StatementHandle;

    constructor(handle: StatementHandle) {
      this.#handle = handle;
    }

    /** ODBCStatement::Prepare: SQLPrepare is deferred (the CLI default), so it always succeeds here. */
    prepare(sql: unknown, cb: unknown): void {
      const text = requireString(sql, 0);
      const callback = requireFunction(cb, 1);
      uv(() => {
        this.#handle.sql = text;
      }, () => callback(null, true));
    }

    prepareSync(sql: unknown): boolean {
      this.#handle.sql = requireString(sql, 0);
      return true;
    }

    bind(values: unknown, cb: unknown): void {
      if (!Array.isArray(values)) throw new TypeError('Argument 1 must be an Array');
      const callback = requireFunction(cb, 1);
      this.#handle.params = parametersFromArray(values);
      uv(() => undefined, () => callback(null, true));
    }

    bindSync(values: unknown): boolean {
      if (!Array.isArray(values)) throw new TypeError('Argument 1 must be an Array');
      this.#handle.params = parametersFromArray(values);
      return true;
    }

    /** SQLSetStmtAttr: SQL_ATTR_QUERY_TIMEOUT is the one this stand-in acts on. */
    setAttrSync(attr: unknown, value: unknown): boolean {
      const attribute = requireInt(attr, 0);
      if (typeof value !== 'number' && value !== null && typeof value !== 'string') throw new TypeError('Unsupported Statement Attribute Value.');
      if (attribute === SQL_ATTR.QUERY_TIMEOUT) this.#handle.queryTimeout = typeof value === 'number' ? toInt32(value) : 0;
      return true;
    }

    setAttr(attr: unknown, value: unknown, cb: unknown): void {
      const callback = requireFunction(cb, 2);
      this.setAttrSync(attr, value);
      uv(() => undefined, () => callback(null, true));
    }

    /** ODBCStatement::UV_AfterExecute: only SQL_ERROR is an error; OUT values come third, when there are any. */
    execute(cb: unknown): void {
      const callback = requireFunction(cb, 0);
      const handle = this.#handle;
      const params = handle.params;
      uv(() => db2.execute(handle.session, handle.sql, params, handle.queryTimeout), (outcome) => {
        handle.diagnostic = outcome.diagnostic;
        handle.cursor = outcome.cursor;
        const succeeded = outcome.rc === SQL_SUCCESS || outcome.rc === 1;
        const outputs = params.filter((p) => p.paramType % 2 === 0);
        const out = succeeded ? outputs.map((p, i) => outputValue(p, outcome.out[i])) : [];
        handle.params = [];
        if (outcome.rc === SQL_ERROR) callback(sqlError(outcome.diagnostic, '[node-ibm_db] SQL_ERROR'));
        else callback(null, new ODBCResult(handle, false), out.length ? out : null);
      });
    }

    closeSync(option?: unknown): boolean {
      const closeOption = typeof option === 'number' ? option : SQL_DROP;
      if (closeOption === SQL_DROP) freeStatement(this.#handle);
      else this.#handle.cursor = null;
      return true;
    }

    close(first: unknown, second?: unknown): void {
      const closeOption = typeof first === 'number' ? first : SQL_DROP;
      const callback = requireFunction(typeof first === 'number' ? second : first, typeof first === 'number' ? 1 : 0);
      uv(() => this.closeSync(closeOption), () => callback(null));
    }

    executeSync(): never { return notModelled('ODBCStatement.executeSync'); }
    executeDirect(): never { return notModelled('ODBCStatement.executeDirect'); }
    executeDirectSync(): never { return notModelled('ODBCStatement.executeDirectSync'); }
    executeNonQuery(): never { return notModelled('ODBCStatement.executeNonQuery'); }
    executeNonQuerySync(): never { return notModelled('ODBCStatement.executeNonQuerySync'); }
  }

  class ODBCConnection {
    #session: Session;
    #connected = false;
    /** DEFAULT_CONNECTION_TIMEOUT (src/odbc_connection.h). */
    #connectTimeout = 30;
    #systemNaming = false;

    constructor(session: Session) {
      this.#session = session;
    }

    get connected(): boolean {
      return this.#connected;
    }

    get connectTimeout(): number {
      return this.#connectTimeout;
    }

    set connectTimeout(value: unknown) {
      if (typeof value === 'number') this.#connectTimeout = toInt32(value);
    }

    get systemNaming(): boolean {
      return this.#systemNaming;
    }

    set systemNaming(value: unknown) {
      if (typeof value === 'boolean') this.#systemNaming = value;
    }

    /**
     * ODBCConnection::Open: SQL_ATTR_LOGIN_TIMEOUT from connectTimeout, then
     * SQLDriverConnect. UV_AfterOpen treats any non-zero return as failure.
     */
    open(connectionString: unknown, cb: unknown): void {
      const text = requireString(connectionString, 0);
      const callback = requireFunction(cb, 1);
      const timeout = this.#connectTimeout > 32767 ? 30 : this.#connectTimeout;
      uv(() => db2.connect(this.#session, text, Math.max(0, timeout)), (failure) => {
        if (failure) {
          callback(sqlError(failure, '[ibm_db] SQL_ERROR'));
        } else {
          this.#connected = true;
          callback(null);
        }
      });
    }

    openSync(): never { return notModelled('ODBCConnection.openSync'); }

    /** ODBCConnection::Close: Free (SQLDisconnect, SQLFreeHandle), never an error. */
    close(cb: unknown): void {
      const callback = requireFunction(cb, 0);
      uv(() => {
        db2.disconnect(this.#session);
        this.#connected = false;
      }, () => callback(null));
    }

    closeSync(): boolean {
      db2.disconnect(this.#session);
      this.#connected = false;
      return true;
    }

    createStatement(cb: unknown): void {
      const callback = requireFunction(cb, 0);
      uv(() => allocateStatement(this.#session), (handle) => callback(null, new ODBCStatement(handle)));
    }

    createStatementSync(): ODBCStatement {
      return new ODBCStatement(allocateStatement(this.#session));
    }

    /**
     * ODBCConnection::Query / UV_AfterQuery: a statement of its own; with
     * noResults, any non-negative return is success; otherwise anything but
     * SQL_SUCCESS (a warning included) is an error, its OUT values third.
     */
    query(...args: unknown[]): void {
      let sql: string;
      let values: unknown[] = [];
      let noResults = false;
      let callback: Callback;
      if (args.length === 3) {
        if (typeof args[0] !== 'string') throw new TypeError('Argument 0 must be a String.');
        if (!Array.isArray(args[1])) throw new TypeError('Argument 1 must be an Array.');
        callback = requireFunction(args[2], 2);
        sql = args[0];
        values = args[1];
      } else if (args.length === 2) {
        callback = requireFunction(args[1], 1);
        const first = args[0];
        if (typeof first === 'string') sql = first;
        else if (typeof first === 'object' && first !== null) {
          sql = 'sql' in first && typeof first.sql === 'string' ? first.sql : '';
          if ('params' in first && Array.isArray(first.params)) values = first.params;
          if ('noResults' in first && typeof first.noResults === 'boolean') noResults = first.noResults;
        } else {
          throw new TypeError('Argument 0 must be a String or an Object.');
        }
      } else {
        throw new TypeError('Requires either 2 or 3 Arguments.');
      }
      if (sql.length === 0) throw new TypeError('SQL statement is missing.');
      const params = parametersFromArray(values);
      const handle = allocateStatement(this.#session, sql);
      uv(() => db2.execute(this.#session, sql, params, 0), (outcome) => {
        const succeeded = outcome.rc === SQL_SUCCESS || outcome.rc === 1;
        const outputs = params.filter((p) => p.paramType % 2 === 0);
        const out = succeeded ? outputs.map((p, i) => outputValue(p, outcome.out[i])) : [];
        const rc = outcome.rc === SQL_NO_DATA ? SQL_SUCCESS : outcome.rc;
        if (rc >= SQL_SUCCESS && noResults) {
          freeStatement(handle);
          callback(null, out.length ? out : null);
        } else if (rc !== SQL_SUCCESS) {
          const error = sqlError(outcome.diagnostic, '[ibm_db] SQL_ERROR');
          freeStatement(handle);
          callback(error, null, out.length ? out : null);
        } else {
          handle.cursor = outcome.cursor;
          callback(null, new ODBCResult(handle, true), out.length ? out : null);
        }
      });
    }

    querySync(): never { return notModelled('ODBCConnection.querySync'); }

    beginTransaction(cb: unknown): void {
      const callback = requireFunction(cb, 0);
      uv(() => db2.setConnectAttr(this.#session, SQL_ATTR.AUTOCOMMIT, 0), (failure) => callback(failure ? sqlError(failure, '[ibm_db] SQL_ERROR') : null));
    }

    beginTransactionSync(): boolean {
      const failure = db2.setConnectAttr(this.#session, SQL_ATTR.AUTOCOMMIT, 0);
      if (failure) throw sqlError(failure, '[ibm_db] SQL_ERROR');
      return true;
    }

    /** SQLEndTran, then autocommit back on; the first failure is the one reported. */
    endTransaction(rollback: unknown, cb: unknown): void {
      const roll = requireBoolean(rollback, 0);
      const callback = requireFunction(cb, 1);
      uv(() => this.#endTransaction(roll), (failure) => callback(failure ? sqlError(failure, '[ibm_db] SQL_ERROR') : null));
    }

    endTransactionSync(rollback: unknown): boolean {
      const failure = this.#endTransaction(requireBoolean(rollback, 0));
      if (failure) throw sqlError(failure, '[ibm_db] SQL_ERROR');
      return true;
    }

    #endTransaction(rollback: boolean): Diagnostic | null {
      const ended = this.#session.connected ? db2.endTransaction(this.#session, rollback) : DIAGNOSTICS.connectionClosed;
      const autocommit = db2.setConnectAttr(this.#session, SQL_ATTR.AUTOCOMMIT, 1);
      return ended ?? autocommit;
    }

    /** ODBCConnection::SetAttr: a number goes as its Int32Value, a string with its length, null as 0. */
    setAttr(attr: unknown, value: unknown, cb: unknown): void {
      const attribute = requireInt(attr, 0);
      const callback = requireFunction(cb, 2);
      const converted = this.#attributeValue(value);
      uv(() => db2.setConnectAttr(this.#session, attribute, converted), (failure) =>
        (failure ? callback(sqlError(failure, '[ibm_db] SQL_ERROR')) : callback(null, true)));
    }

    setAttrSync(attr: unknown, value: unknown): boolean {
      const failure = db2.setConnectAttr(this.#session, requireInt(attr, 0), this.#attributeValue(value));
      if (failure) throw sqlError(failure, '[node-ibm_db] Error in ODBCConnection::SetAttrSync');
      return true;
    }

    #attributeValue(value: unknown): string | number | null {
      if (typeof value === 'number') return toInt32(value);
      if (value === null || typeof value === 'string') return value;
      throw new TypeError('Unsupported Connection Attribute Value.');
    }

    createDbSync(): never { return notModelled('ODBCConnection.createDbSync'); }
    dropDbSync(): never { return notModelled('ODBCConnection.dropDbSync'); }
    setIsolationLevel(): never { return notModelled('ODBCConnection.setIsolationLevel'); }
    getInfo(): never { return notModelled('ODBCConnection.getInfo'); }
    getInfoSync(): never { return notModelled('ODBCConnection.getInfoSync'); }
    getTypeInfo(): never { return notModelled('ODBCConnection.getTypeInfo'); }
    getTypeInfoSync(): never { return notModelled('ODBCConnection.getTypeInfoSync'); }
    getFunctions(): never { return notModelled('ODBCConnection.getFunctions'); }
    getFunctionsSync(): never { return notModelled('ODBCConnection.getFunctionsSync'); }
    columns(): never { return notModelled('ODBCConnection.columns'); }
    tables(): never { return notModelled('ODBCConnection.tables'); }
  }

  /** ODBC::Init: the environment, and the constants lib/odbc.js copies onto Database and its exports. */
  class ODBC {
    static SQL_CLOSE = SQL_CLOSE;
    static SQL_DROP = SQL_DROP;
    static SQL_UNBIND = 2;
    static SQL_RESET_PARAMS = 3;
    static SQL_DESTROY = SQL_DROP;
    static FETCH_ARRAY = FETCH_ARRAY;
    static FETCH_OBJECT = FETCH_OBJECT;

    createConnection(cb: unknown): void {
      const callback = requireFunction(cb, 0);
      uv(() => db2.allocateConnection(), (session) => callback(null, new ODBCConnection(session)));
    }

    createConnectionSync(): ODBCConnection {
      return new ODBCConnection(db2.allocateConnection());
    }
  }

  return { ODBC, ODBCConnection, ODBCStatement, ODBCResult };
}
