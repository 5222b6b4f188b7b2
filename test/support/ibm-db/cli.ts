// What the IBM CLI driver says back: the sqlcli.h / sqlext.h constants the
// addon passes through, and its diagnostics (SQLSTATE, SQLCODE, message text)
// as ODBC::GetSQLError (src/odbc.cpp) hands them to JavaScript.

export const SQL_SUCCESS = 0;
export const SQL_SUCCESS_WITH_INFO = 1;
export const SQL_NO_DATA = 100;
export const SQL_ERROR = -1;
/** SQL_SUCCEEDED (sqltypes.h): SQL_SUCCESS or SQL_SUCCESS_WITH_INFO, never SQL_NO_DATA. */
export const succeeded = (rc: number) => rc === SQL_SUCCESS || rc === SQL_SUCCESS_WITH_INFO;

export const SQL_TYPE = {
  CHAR: 1, NUMERIC: 2, DECIMAL: 3, INTEGER: 4, SMALLINT: 5, FLOAT: 6, REAL: 7, DOUBLE: 8, VARCHAR: 12,
  LONGVARCHAR: -1, BIGINT: -5, TINYINT: -6, BOOLEAN: 16, DECFLOAT: -360, TYPE_DATE: 91, TYPE_TIME: 92, TYPE_TIMESTAMP: 93,
} as const;
export const SQL_C = { CHAR: 1, SLONG: -16, DOUBLE: 8, SBIGINT: -25, DEFAULT: 99, BINARY: -2 } as const;
export const SQL_ATTR = {
  AUTOCOMMIT: 102, LOGIN_TIMEOUT: 103, INFO_USERID: 1281, INFO_WRKSTNNAME: 1282, INFO_APPLNAME: 1283, INFO_ACCTSTR: 1284, QUERY_TIMEOUT: 0,
} as const;
/** SQLFreeStmt options; FETCH_* are the addon's own (src/odbc.h). */
export const SQL_CLOSE = 0;
export const SQL_DROP = 1;
export const FETCH_ARRAY = 3;
export const FETCH_OBJECT = 4;

export interface Diagnostic {
  sqlstate: string;
  sqlcode: number;
  message: string;
}

/** A server diagnostic as the CLI words it: "[IBM][CLI Driver][DB2/LINUXX8664] SQL0803N  text  SQLSTATE=23505". */
export function diagnostic(sqlstate: string, sqlcode: number, text = 'simulated'): Diagnostic {
  const code = `SQL${String(Math.abs(sqlcode)).padStart(4, '0')}${sqlcode < 0 ? 'N' : 'W'}`;
  return { sqlstate, sqlcode, message: `[IBM][CLI Driver][DB2/LINUXX8664] ${code}  ${text}  SQLSTATE=${sqlstate}` };
}

/** A diagnostic the CLI raises itself (CLInnnnE/W, SQLCODE -99999), without the server. */
const cliDiagnostic = (sqlstate: string, text: string): Diagnostic =>
  ({ sqlstate, sqlcode: -99999, message: `[IBM][CLI Driver] ${text} SQLSTATE=${sqlstate}` });

export const DIAGNOSTICS = {
  communication: { sqlstate: '08001', sqlcode: -30081, message: '[IBM][CLI Driver] SQL30081N  A communication error has been detected. Communication protocol being used: "TCP/IP".  Communication API being used: "SOCKETS".  Location where the error was detected: "10.0.0.5".  Communication function detecting the error: "recv".  Protocol specific error code(s): "104", "*", "0".  SQLSTATE=08001' },
  rerouted: { sqlstate: '08506', sqlcode: -30108, message: '[IBM][CLI Driver] SQL30108N  A connection failed but has been re-established. Hostname or IP address: "db2-b.example.internal". Service name or port number: "50000". Special register settings might have been replayed. (Reason code = "1").  SQLSTATE=08506' },
  noConnection: diagnostic('08003', -900, 'The application state is in error.  A database connection does not exist.'),
  lockTimeout: diagnostic('40001', -911, 'The current transaction has been rolled back because of a deadlock or timeout.  Reason code "68".'),
  deadlock: diagnostic('40001', -911, 'The current transaction has been rolled back because of a deadlock or timeout.  Reason code "2".'),
  cancelled: diagnostic('57014', -952, 'Processing was cancelled due to an interrupt.'),
  /** SQL0100W: the statement found no row (SQLExecute answered SQL_NO_DATA_FOUND). */
  noData: diagnostic('02000', 100, 'No row was found for FETCH, UPDATE or DELETE; or the result of a query is an empty table.'),
  /** SQL0302N: an input value longer than the parameter or column it is assigned to. */
  tooLong: diagnostic('22001', -302, 'The value of a host variable in the EXECUTE or OPEN statement is out of range for its corresponding use.'),
  /** SQL0863W: the application code page is single-byte, the database's is not (a connect warning). */
  singleByteOnly: diagnostic('01539', 863, 'The connection was successful, but only single-byte characters should be used.'),
  truncated: cliDiagnostic('01004', 'CLI0002W  Data truncated.'),
  connectionClosed: cliDiagnostic('08003', 'CLI0106E  Connection is closed.'),
  nullPointer: cliDiagnostic('HY009', 'CLI0124E  Invalid argument value.'),
} satisfies Record<string, Diagnostic>;

/** SQLCODEs after which the CLI's connection is gone. */
export const CONNECTION_LOST = new Set([-30080, -30081, -1224, -900]);

/** Thrown by a responder: the statement ends in SQL_ERROR with this diagnostic. */
export class Db2Failure extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.message);
  }
}

export const db2Error = (sqlstate: string, sqlcode: number, text?: string) => new Db2Failure(diagnostic(sqlstate, sqlcode, text));
