// One statement on one connection, through ibm_db's prepared-statement path:
// prepare, statement timeout, execute, warning, rows, and the handle freed
// whichever step fails. Not Database.query: its native half
// (ODBCConnection::UV_AfterQuery) reports SQL_SUCCESS_WITH_INFO as an error
// and drops the cursor, and it offers no statement handle to carry
// SQL_ATTR_QUERY_TIMEOUT. ODBCStatement.execute treats a warning as success
// and keeps the OUT values and rows.
import { diagnosticOf, type Db2Database, type Db2Diagnostic, type Db2Param, type Db2Result, type Db2Statement } from './binding.js';
import { isWarning } from './errors.js';

/** sqlcli1.h: seconds before the CLI cancels the statement (SQL0952N, SQLSTATE 57014); 0 = never. */
export const SQL_ATTR_QUERY_TIMEOUT = 0;

export interface StatementOutcome {
  rows: Record<string, unknown>[];
  /**
   * OUT parameter values, in parameter order; null when ibm_db passed none:
   * UV_AfterExecute reads them only when SQLExecute SQL_SUCCEEDED, so never
   * after SQL_NO_DATA (SQLCODE +100).
   */
  out: unknown[] | null;
  /** Db2 answered SQL_SUCCESS_WITH_INFO: the statement did its work, and said this. */
  warning: Db2Diagnostic | null;
  /** The statement handle's diagnostic record after the execute, whatever its class (02000 after SQL_NO_DATA, where the CLI gives one). */
  diagnostic: Db2Diagnostic;
}

export interface StatementOptions {
  timeoutSeconds: number;
  /** Read the cursor (queries); a CALL of these procedures opens none. */
  fetch: boolean;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/**
 * The statement made as Database.prepare (lib/odbc.js) makes it, but freed
 * when SQLPrepare fails: Database.prepare then hands back no statement and
 * frees nothing, so its handle would stay allocated until the garbage
 * collector finalizes it (~ODBCStatement). SQLPrepare fails only where the
 * statement reaches the server at prepare (CLI keyword DeferredPrepare=0).
 */
function prepare(db: Db2Database, sql: string): Promise<Db2Statement> {
  return new Promise((resolve, reject) => {
    if (!db.conn) throw new Error('ibm_db connection is closed');
    db.conn.createStatement((error, statement) => {
      if (error || !statement) {
        reject(error ?? new Error('ibm_db allocated no statement'));
        return;
      }
      statement.db = db;
      statement.prepare(sql, (failure) => {
        if (!failure) {
          resolve(statement);
          return;
        }
        statement.closeSync();
        db.checkConnectionError?.(failure);
        reject(failure);
      });
    });
  });
}

function execute(statement: Db2Statement, params: Db2Param[]): Promise<{ result: Db2Result; out: unknown[] | null }> {
  return new Promise((resolve, reject) => {
    // No parameters: skip the bind step, as lib/odbc.js does for null.
    statement.execute(params.length > 0 ? params : null, (error, result, out) => {
      if (error || !result) reject(error ?? new Error('ibm_db executed without a result'));
      else resolve({ result, out: Array.isArray(out) ? out : null });
    });
  });
}

/** All rows, or the failure a fetch broke on (SQL0911N, 22001…): lib/odbc.js then drops the rows read before it. */
function fetchAll(result: Db2Result): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    result.fetchAll((error, rows) => {
      if (error) reject(error);
      else resolve(Array.isArray(rows) ? rows.filter(isRecord) : []);
    });
  });
}

export async function runStatement(db: Db2Database, sql: string, params: Db2Param[], options: StatementOptions): Promise<StatementOutcome> {
  const statement = await prepare(db, sql);
  try {
    if (options.timeoutSeconds > 0) statement.setAttrSync(SQL_ATTR_QUERY_TIMEOUT, options.timeoutSeconds);
    const { result, out } = await execute(statement, params);
    try {
      // Read before anything else touches the handle: the next CLI call clears it.
      const diagnostic = diagnosticOf(result.getSQLErrorSync());
      const rows = options.fetch ? await fetchAll(result) : [];
      return { rows, out, warning: isWarning(diagnostic) ? diagnostic : null, diagnostic };
    } finally {
      result.closeSync();
    }
  } finally {
    statement.closeSync();
  }
}
