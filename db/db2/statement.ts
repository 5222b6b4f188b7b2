// One statement on one connection, through ibm_db's prepared-statement path:
// prepare, statement timeout, execute, warning, rows, and both handles freed.
// Not Database.query: its native half (ODBCConnection::UV_AfterQuery) reports
// SQL_SUCCESS_WITH_INFO as an error and drops the cursor, and it offers no
// statement handle to carry SQL_ATTR_QUERY_TIMEOUT. ODBCStatement.execute
// treats a warning as success and keeps the OUT values and rows.
import { diagnosticOf, type Db2Database, type Db2Diagnostic, type Db2Param, type Db2Result, type Db2Statement } from './binding.js';
import { isWarning } from './errors.js';

/** sqlcli1.h: seconds before the CLI cancels the statement (SQL0952N, SQLSTATE 57014); 0 = never. */
export const SQL_ATTR_QUERY_TIMEOUT = 0;

export interface StatementOutcome {
  rows: Record<string, unknown>[];
  /** OUT parameter values, in parameter order. */
  out: unknown[];
  /** Db2 answered SQL_SUCCESS_WITH_INFO: the statement did its work, and said this. */
  warning: Db2Diagnostic | null;
}

export interface StatementOptions {
  timeoutSeconds: number;
  /** Read the cursor (queries); a CALL of these procedures opens none. */
  fetch: boolean;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

function prepare(db: Db2Database, sql: string): Promise<Db2Statement> {
  return new Promise((resolve, reject) => {
    db.prepare(sql, (error, statement) => (error || !statement ? reject(error ?? new Error('ibm_db prepared no statement')) : resolve(statement)));
  });
}

function execute(statement: Db2Statement, params: Db2Param[]): Promise<{ result: Db2Result; out: unknown[] }> {
  return new Promise((resolve, reject) => {
    // No parameters: skip the bind step, as lib/odbc.js does for null.
    statement.execute(params.length > 0 ? params : null, (error, result, out) => {
      if (error || !result) reject(error ?? new Error('ibm_db executed without a result'));
      else resolve({ result, out: Array.isArray(out) ? out : [] });
    });
  });
}

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
      return { rows, out, warning: isWarning(diagnostic) ? diagnostic : null };
    } finally {
      result.closeSync();
    }
  } finally {
    statement.closeSync();
  }
}
