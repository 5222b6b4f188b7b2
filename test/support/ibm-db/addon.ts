// A stand-in for ibm_db 4.0.1's native addon (odbc_bindings), so its own
// lib/odbc.js runs unmodified over it: the four classes src/*.cpp export,
// wired to one ScriptedDb2, with the statement handles they allocate and free
// counted on it (db2.openStatements).
import { connectionClasses } from './connection.js';
import type { ScriptedDb2 } from './server.js';
import type { Session } from './session.js';
import { statementClasses, type StatementHandle } from './statement.js';

export interface IbmDbAddon {
  ODBC: new () => object;
  ODBCConnection: abstract new (...args: never[]) => object;
  ODBCStatement: abstract new (...args: never[]) => object;
  ODBCResult: abstract new (...args: never[]) => object;
}

export function createIbmDbAddon(db2: ScriptedDb2): IbmDbAddon {
  function free(handle: StatementHandle): void {
    if (handle.freed) return;
    handle.freed = true;
    handle.cursor = null;
    db2.statementFreed(handle.session, handle);
  }
  // ~ODBCStatement calls Free: a statement object nobody closed gives its handle back only when the garbage collector finalizes it.
  const finalizer = new FinalizationRegistry<StatementHandle>(free);
  const statements = statementClasses({ db2, free });
  function allocate(session: Session, sql = ''): StatementHandle {
    const handle: StatementHandle = { session, sql, prepared: false, params: [], queryTimeout: 0, diagnostic: null, cursor: null, freed: false };
    db2.statementAllocated(session, handle);
    return handle;
  }
  class ODBCStatement extends statements.ODBCStatement {
    constructor(handle: StatementHandle) {
      super(handle);
      finalizer.register(this, handle);
    }
  }
  const { ODBC, ODBCConnection } = connectionClasses({ db2, allocate, free, statements: { ...statements, ODBCStatement } });
  return { ODBC, ODBCConnection, ODBCStatement, ODBCResult: statements.ODBCResult };
}
