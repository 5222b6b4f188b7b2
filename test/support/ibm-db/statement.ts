// The addon's statements and cursors (src/odbc_statement.cpp, odbc_result.cpp):
// ODBCStatement (prepare, bind, statement attributes, execute, close) and
// ODBCResult (fetchAll, the handle's warning, close), over a statement handle
// the ScriptedDb2 answers for.
import {
  FETCH_ARRAY, FETCH_OBJECT, SQL_ATTR, SQL_DROP, SQL_ERROR, SQL_NO_DATA, succeeded, type Diagnostic,
} from './cli.js';
import {
  closeLater, isCallback, requireFunction, requireInt, requireString, sqlError, toInt32, uv, withoutModels, type Callback,
} from './native.js';
import { columnValue, outputValue, parametersFromArray } from './parameters.js';
import type { Cursor, ScriptedDb2 } from './server.js';
import type { Session } from './session.js';
import { isOutput, type BoundParameter, type Db2Value } from './values.js';

export interface StatementHandle {
  session: Session;
  sql: string;
  /** SQLPrepare sent it to the server (deferred prepare off): the execute does not prepare it again. */
  prepared: boolean;
  params: BoundParameter[];
  queryTimeout: number;
  diagnostic: Diagnostic | null;
  cursor: Cursor | null;
  freed: boolean;
}

export interface StatementContext {
  db2: ScriptedDb2;
  /** SQLFreeHandle(SQL_HANDLE_STMT): ODBCStatement::Free, ODBCResult::Free. */
  free(handle: StatementHandle): void;
}

function fetchModeOf(options: unknown, fallback: number): number {
  return typeof options === 'object' && options !== null && 'fetchMode' in options && typeof options.fetchMode === 'number' ? options.fetchMode : fallback;
}

export function statementClasses({ db2, free }: StatementContext) {
  /** What ODBCStatement and ODBCResult share: a statement handle, freed by SQL_DROP only where the object owns it. */
  abstract class OnHandle {
    protected constructor(protected readonly handle: StatementHandle, private readonly owner: boolean) {}

    /** CloseSync: SQL_DROP frees the handle when this object owns it; any other option (or a result that does not own it) closes the cursor. */
    closeSync(option?: unknown): boolean {
      const closeOption = typeof option === 'number' ? option : SQL_DROP;
      if (closeOption === SQL_DROP && this.owner) free(this.handle);
      else this.handle.cursor = null;
      return true;
    }

    close(first: unknown, second?: unknown): void {
      closeLater(first, second, (option) => this.closeSync(option));
    }
  }

  class ODBCResult extends OnHandle {
    #fetchMode = FETCH_OBJECT;

    /** ODBCResult::New: the handle is the statement's; canFreeHandle is true only for Query's own statement. */
    constructor(handle: StatementHandle, canFreeHandle: boolean) {
      super(handle, canFreeHandle);
    }

    get fetchMode(): number {
      return this.#fetchMode;
    }

    set fetchMode(value: unknown) {
      if (typeof value === 'number') this.#fetchMode = toInt32(value);
    }

    #row(cursor: Cursor, row: Db2Value[], fetchMode: number): unknown {
      const values = cursor.columns.map((column, i) => columnValue(db2, cursor, column, row[i] ?? null));
      return fetchMode === FETCH_ARRAY ? values : Object.fromEntries(cursor.columns.map((column, i) => [column.name, values[i]]));
    }

    /**
     * The SQLFetch loop of UV_FetchAll / UV_AfterFetchAll: rows until
     * SQL_NO_DATA, or until SQL_ERROR, which is reported with the rows read
     * so far. No columns (a CALL, an UPDATE): SQLFetch's error is not reported.
     */
    #fetchRows(fetchMode: number, label: string): { error: Error | null; rows: unknown[]; columnCount: number } {
      const cursor = this.handle.cursor;
      const columnCount = cursor?.columns.length ?? 0;
      const rows: unknown[] = [];
      if (!cursor || columnCount === 0) return { error: null, rows, columnCount };
      for (;;) {
        const fetched = db2.fetch(cursor);
        if (fetched.rc === SQL_NO_DATA) return { error: null, rows, columnCount };
        if (fetched.rc === SQL_ERROR) return { error: sqlError(fetched.diagnostic, label), rows, columnCount };
        rows.push(this.#row(cursor, fetched.row, fetchMode));
      }
    }

    /** ODBCResult::FetchAll: (cb) or ({ fetchMode }, cb); answers (error|null, rows, columnCount). */
    fetchAll(first: unknown, second?: unknown): void {
      let callback: Callback;
      if (isCallback(first) && second === undefined) callback = first;
      else if (typeof first === 'object' && first !== null && isCallback(second)) callback = second;
      else throw new TypeError('ODBCResult::FetchAll(): 1 or 2 arguments are required. The last argument must be a callback function.');
      const fetchMode = fetchModeOf(first, this.#fetchMode);
      uv(() => this.#fetchRows(fetchMode, '[node-odbc] Error in ODBCResult::UV_AfterFetchAll'),
        ({ error, rows, columnCount }) => callback(error, rows, columnCount));
    }

    /** ODBCResult::FetchAllSync: the same loop; a failure is thrown once it ends. */
    fetchAllSync(options?: unknown): unknown[] {
      const { error, rows } = this.#fetchRows(fetchModeOf(options, this.#fetchMode), '[node-odbc] Error in ODBCResult::FetchAllSync; probably your query did not have a result set.');
      if (error) throw error;
      return rows;
    }

    /** SQLMoreResults: these statements never return a second result set. */
    moreResultsSync(): boolean {
      return false;
    }

    getColumnNamesSync(): string[] {
      return this.handle.cursor?.columns.map((c) => c.name) ?? [];
    }

    /** ODBCResult::GetSQLErrorSync: the statement handle's first diagnostic record, or an empty one. */
    getSQLErrorSync(): Error {
      return sqlError(this.handle.diagnostic, '');
    }

    getAffectedRowsSync(): number {
      return 0;
    }
  }
  withoutModels(ODBCResult, ['fetch', 'fetchSync', 'fetchN', 'fetchNSync', 'getData', 'getDataSync', 'getColumnMetadataSync', 'bindFileToColSync']);

  class ODBCStatement extends OnHandle {
    constructor(handle: StatementHandle) {
      super(handle, true);
    }

    /** ODBCStatement::Prepare / UV_AfterPrepare: SQLPrepare; only SQL_ERROR is an error. The handle stays allocated either way. */
    prepare(sql: unknown, cb: unknown): void {
      const text = requireString(sql, 0);
      const callback = requireFunction(cb, 1);
      const handle = this.handle;
      uv(() => {
        handle.sql = text;
        const refused = db2.prepare(handle.session, text);
        handle.prepared = !refused && !handle.session.keywords.deferredPrepare;
        return refused;
      }, (refused) => (refused ? callback(sqlError(refused, '[node-ibm_db] SQL_ERROR')) : callback(null, true)));
    }

    prepareSync(sql: unknown): boolean {
      const handle = this.handle;
      handle.sql = requireString(sql, 0);
      const refused = db2.prepare(handle.session, handle.sql);
      if (refused) throw sqlError(refused, '[node-ibm_db] SQL_ERROR');
      handle.prepared = !handle.session.keywords.deferredPrepare;
      return true;
    }

    bind(values: unknown, cb: unknown): void {
      if (!Array.isArray(values)) throw new TypeError('Argument 1 must be an Array');
      const callback = requireFunction(cb, 1);
      this.handle.params = parametersFromArray(values);
      uv(() => undefined, () => callback(null, true));
    }

    bindSync(values: unknown): boolean {
      if (!Array.isArray(values)) throw new TypeError('Argument 1 must be an Array');
      this.handle.params = parametersFromArray(values);
      return true;
    }

    /** SQLSetStmtAttr: SQL_ATTR_QUERY_TIMEOUT is the one this stand-in acts on. */
    setAttrSync(attr: unknown, value: unknown): boolean {
      const attribute = requireInt(attr, 0);
      if (typeof value !== 'number' && value !== null && typeof value !== 'string') throw new TypeError('Unsupported Statement Attribute Value.');
      if (attribute === SQL_ATTR.QUERY_TIMEOUT) this.handle.queryTimeout = typeof value === 'number' ? toInt32(value) : 0;
      return true;
    }

    setAttr(attr: unknown, value: unknown, cb: unknown): void {
      const callback = requireFunction(cb, 2);
      this.setAttrSync(attr, value);
      uv(() => undefined, () => callback(null, true));
    }

    /**
     * ODBCStatement::UV_AfterExecute: OUT values are read only when
     * SQL_SUCCEEDED (so never after SQL_NO_DATA); only SQL_ERROR is an error;
     * anything else gets a result, and the OUT values third, or null.
     */
    execute(cb: unknown): void {
      const callback = requireFunction(cb, 0);
      const handle = this.handle;
      const params = handle.params;
      uv(() => db2.execute(handle.session, handle.sql, params, handle.queryTimeout, handle.prepared), (outcome) => {
        handle.diagnostic = outcome.diagnostic;
        handle.cursor = outcome.cursor;
        const out = succeeded(outcome.rc) ? params.filter(isOutput).map((p, i) => outputValue(p, outcome.out[i])) : [];
        handle.params = [];
        if (outcome.rc === SQL_ERROR) callback(sqlError(outcome.diagnostic, '[node-ibm_db] SQL_ERROR'));
        else callback(null, new ODBCResult(handle, false), out.length ? out : null);
      });
    }

  }
  withoutModels(ODBCStatement, ['executeSync', 'executeDirect', 'executeDirectSync', 'executeNonQuery', 'executeNonQuerySync']);

  return { ODBCResult, ODBCStatement };
}
