// The addon's environment and connections (src/odbc.cpp ODBC, src/odbc_connection.cpp
// ODBCConnection): open with its login timeout, close, statements, Query,
// transactions and connection attributes, over a Session the ScriptedDb2 keeps.
import { DIAGNOSTICS, FETCH_ARRAY, FETCH_OBJECT, SQL_ATTR, SQL_CLOSE, SQL_DROP, SQL_NO_DATA, SQL_SUCCESS, succeeded, type Diagnostic } from './cli.js';
import {
  cppString, requireBoolean, requireFunction, requireInt, requireString, sqlError, toInt32, uv, withoutModels, type Callback,
} from './native.js';
import { outputValue, parametersFromArray } from './parameters.js';
import type { ScriptedDb2 } from './server.js';
import type { Session } from './session.js';
import type { statementClasses, StatementHandle } from './statement.js';
import { isOutput } from './values.js';

/** DEFAULT_CONNECTION_TIMEOUT (src/odbc_connection.h): seconds. */
const DEFAULT_CONNECTION_TIMEOUT = 30;

export interface ConnectionContext {
  db2: ScriptedDb2;
  /** SQLAllocHandle(SQL_HANDLE_STMT). */
  allocate(session: Session, sql?: string): StatementHandle;
  free(handle: StatementHandle): void;
  statements: ReturnType<typeof statementClasses>;
}

/** Query's arguments: (sql, params, cb), (sql, cb) or ({ sql, params, noResults }, cb), as ODBCConnection::Query reads them. */
function queryArguments(args: unknown[]): { sql: string; values: unknown[]; noResults: boolean; callback: Callback } {
  if (args.length === 3) {
    if (typeof args[0] !== 'string') throw new TypeError('Argument 0 must be a String.');
    if (!Array.isArray(args[1])) throw new TypeError('Argument 1 must be an Array.');
    return { sql: args[0], values: args[1], noResults: false, callback: requireFunction(args[2], 2) };
  }
  if (args.length !== 2) throw new TypeError('Requires either 2 or 3 Arguments.');
  const callback = requireFunction(args[1], 1);
  const first = args[0];
  if (typeof first === 'string') return { sql: first, values: [], noResults: false, callback };
  if (typeof first !== 'object' || first === null) throw new TypeError('Argument 0 must be a String or an Object.');
  return {
    sql: 'sql' in first && typeof first.sql === 'string' ? first.sql : '',
    values: 'params' in first && Array.isArray(first.params) ? first.params : [],
    noResults: 'noResults' in first && typeof first.noResults === 'boolean' ? first.noResults : false,
    callback,
  };
}

export function connectionClasses({ db2, allocate, free, statements: { ODBCStatement, ODBCResult } }: ConnectionContext) {
  class ODBCConnection {
    #session: Session;
    #connected = false;
    #connectTimeout = DEFAULT_CONNECTION_TIMEOUT;
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
     * ODBCConnection::Open. SetConnectionAttributes: connectTimeout, read as
     * unsigned, above 32767 becomes 30; above 0 it is SQL_ATTR_LOGIN_TIMEOUT
     * (else the CLI's default, no limit). UV_Open: SQLDriverConnect; when it
     * SQL_SUCCEEDED, `ret` is overwritten by SQLAllocHandle, SQLGetFunctions
     * and last SQLFreeHandle (SQL_SUCCESS), so a connect warning
     * (SQL_SUCCESS_WITH_INFO) is dropped unseen. UV_AfterOpen: any non-zero
     * `ret` is a failure, read from the connection handle.
     */
    open(connectionString: unknown, cb: unknown): void {
      const text = requireString(connectionString, 0);
      const callback = requireFunction(cb, 1);
      const unsigned = this.#connectTimeout >>> 0;
      const timeout = unsigned > 32767 ? DEFAULT_CONNECTION_TIMEOUT : unsigned;
      uv(() => db2.connect(this.#session, text, timeout), ({ rc, diagnostic }) => {
        const ret = succeeded(rc) ? SQL_SUCCESS : rc;
        if (ret !== SQL_SUCCESS) {
          callback(sqlError(diagnostic, '[ibm_db] SQL_ERROR'));
        } else {
          this.#connected = true;
          callback(null);
        }
      });
    }

    /** ODBCConnection::Close: Free (SQLDisconnect, SQLFreeHandle), never an error. */
    close(cb: unknown): void {
      const callback = requireFunction(cb, 0);
      uv(() => this.closeSync(), () => callback(null));
    }

    closeSync(): boolean {
      db2.disconnect(this.#session);
      this.#connected = false;
      return true;
    }

    /** ODBCConnection::CreateStatement: SQLAllocHandle, its result never checked. */
    createStatement(cb: unknown): void {
      const callback = requireFunction(cb, 0);
      uv(() => allocate(this.#session), (handle) => callback(null, new ODBCStatement(handle)));
    }

    createStatementSync(): InstanceType<typeof ODBCStatement> {
      return new ODBCStatement(allocate(this.#session));
    }

    /**
     * ODBCConnection::Query / UV_AfterQuery: a statement of its own; OUT values
     * only when SQL_SUCCEEDED; SQL_NO_DATA becomes SQL_SUCCESS; with
     * noResults, any non-negative return is success; otherwise anything but
     * SQL_SUCCESS (a warning included) is an error, its OUT values third.
     */
    query(...args: unknown[]): void {
      const { sql, values, noResults, callback } = queryArguments(args);
      if (sql.length === 0) throw new TypeError('SQL statement is missing.');
      const params = parametersFromArray(values);
      const handle = allocate(this.#session, sql);
      uv(() => db2.execute(this.#session, sql, params, 0), (outcome) => {
        const out = succeeded(outcome.rc) ? params.filter(isOutput).map((p, i) => outputValue(p, outcome.out[i])) : [];
        const rc = outcome.rc === SQL_NO_DATA ? SQL_SUCCESS : outcome.rc;
        if (rc >= SQL_SUCCESS && noResults) {
          free(handle);
          callback(null, out.length ? out : null);
        } else if (rc !== SQL_SUCCESS) {
          const error = sqlError(outcome.diagnostic, '[ibm_db] SQL_ERROR');
          free(handle);
          callback(error, null, out.length ? out : null);
        } else {
          handle.cursor = outcome.cursor;
          callback(null, new ODBCResult(handle, true), out.length ? out : null);
        }
      });
    }

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

    /** ODBCConnection::SetAttr / UV_AfterSetAttr: failure unless SQL_SUCCEEDED, read from the connection handle. */
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

    /** A number goes as its Int32Value, null as a NULL pointer, a string through GETCPPSTR: '' and "null" as a NULL pointer too. */
    #attributeValue(value: unknown): string | number | null {
      if (typeof value === 'number') return toInt32(value);
      if (value === null) return null;
      if (typeof value === 'string') return cppString(value);
      throw new TypeError('Unsupported Connection Attribute Value.');
    }

  }
  withoutModels(ODBCConnection, ['openSync', 'querySync', 'createDbSync', 'dropDbSync', 'setIsolationLevel', 'getInfo', 'getInfoSync',
    'getTypeInfo', 'getTypeInfoSync', 'getFunctions', 'getFunctionsSync', 'columns', 'tables']);

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

  return { ODBC, ODBCConnection };
}
