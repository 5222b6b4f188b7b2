// A scripted Db2 below the ibm_db addon stand-in: the CLI driver and the
// server as one, answering each CLI call the addon makes (connect, set
// attribute, prepare, execute, fetch, end transaction) the way IBM documents
// it, and every statement the way the test scripts it. It never runs SQL.
import {
  CONNECTION_LOST, DIAGNOSTICS, Db2Failure, SQL_ERROR, SQL_NO_DATA, SQL_SUCCESS, SQL_SUCCESS_WITH_INFO, SQL_ATTR, diagnostic, type Diagnostic,
} from './cli.js';
import { declaredParameters } from './catalog.js';
import { applicationCodePage, toDatabase } from './code-page.js';
import {
  applyRegisterStatement, cliKeywords, connectionKeywords, Session, SYSTEM_PATH, type ClientInfo, type CliKeywords, type Registers,
} from './session.js';
import {
  assignmentFailure, columnData, inputValue, isOutput, typeOfValue, writeOutput, type BoundParameter, type Column, type Db2Value, type OutputBuffer,
} from './values.js';

export interface Reply {
  columns?: Column[];
  rows?: Db2Value[][];
  /** OUT parameter values in order, of the types the procedure declares. */
  out?: Db2Value[];
  /** The OUT types Db2 assigns from, when not the ones the migrations declare for this procedure. */
  outTypes?: string[];
  /** The statement succeeds with this warning (SQL_SUCCESS_WITH_INFO). */
  warning?: Diagnostic;
  /** The statement waits for a lock another unit of work holds, until a timeout ends the wait. */
  lockWait?: boolean;
  /**
   * SQLCODE +100: SQLExecute answers SQL_NO_DATA_FOUND, "additional
   * information might be available" (SQL0100W). A searched UPDATE or DELETE
   * that touched no row, or a CALL whose last statement was one.
   * https://www.ibm.com/docs/SSEPEK_12.0.0/odbc/src/tpc/db2z_fnretcode.html
   */
  noData?: boolean;
  /** The cursor breaks after this many rows: SQLFetch answers SQL_ERROR with this diagnostic. */
  fetchFailure?: { afterRows: number; diagnostic: Diagnostic };
}

/** One statement as the server received it. */
export interface Executed {
  connection: number;
  member: string;
  /** The text as the server received it (converted from the application code page). */
  sql: string;
  /** Input values as Db2 received them (output positions: undefined). */
  inputs: (string | number | bigint | null | undefined)[];
  params: BoundParameter[];
  registers: Registers;
  clientInfo: ClientInfo;
  autocommit: boolean;
  /** SQL_ATTR_QUERY_TIMEOUT of the statement handle, seconds. */
  queryTimeout: number;
  /** The CLI keywords of the connection (connection string over db2cli.ini). */
  cli: CliKeywords;
}

export type Responder = (statement: Executed) => Reply | undefined | Promise<Reply | undefined>;

/** An open cursor: the rows the server will hand SQLFetch, and where it breaks. */
export interface Cursor {
  session: Session;
  columns: Column[];
  rows: Db2Value[][];
  position: number;
  failure?: { afterRows: number; diagnostic: Diagnostic };
}

export interface ExecuteOutcome {
  rc: number;
  diagnostic: Diagnostic | null;
  cursor: Cursor | null;
  out: OutputBuffer[];
}

export type FetchOutcome = { rc: typeof SQL_SUCCESS; row: Db2Value[] } | { rc: typeof SQL_NO_DATA } | { rc: typeof SQL_ERROR; diagnostic: Diagnostic };

export class ScriptedDb2 {
  /** How many real milliseconds one of Db2's seconds lasts here (login, lock and query timeouts are in seconds). */
  secondMs = 1000;
  respond: Responder = () => undefined;
  /** The server cannot prepare this statement (SQL0204N, SQL0104N…): at SQLPrepare without deferred prepare, else at execute. */
  refusePrepare: (sql: string) => Diagnostic | undefined = () => undefined;
  /** Told when a connection's unit of work ends: committed, or rolled back (by the application, a deadlock or a reroute). */
  onTransactionEnd: (connection: number, committed: boolean) => void = () => undefined;
  /** 'hang': the server never answers a connect; a Diagnostic: connects fail with it. */
  accepting: 'yes' | 'hang' | Diagnostic = 'yes';
  /** Seconds the server takes to accept a login (TLS, authentication through Db2 Connect); a shorter login timeout gives up first. */
  loginSeconds = 0;
  /** Connects succeed with this warning (SQLDriverConnect answers SQL_SUCCESS_WITH_INFO). */
  connectWarning: Diagnostic | null = null;
  /** False: SET CURRENT LOCK TIMEOUT is unknown (Db2 12 for z/OS). */
  lockTimeoutRegister = true;
  /** db2cli.ini's keywords for every connection; a connection string keyword wins. */
  cliIni: Partial<CliKeywords> = {};
  readonly executed: Executed[] = [];
  readonly events: string[] = [];
  readonly connectionStrings: string[] = [];
  /** SQL_ATTR_LOGIN_TIMEOUT of every connect, seconds. */
  readonly loginTimeouts: number[] = [];
  maxOpenConnections = 0;
  connectFailures = 0;
  /** When the CLI's query timeout thread started: it checks every QueryTimeoutInterval from here. */
  private readonly started = Date.now();
  private readonly sessions: Session[] = [];
  private member = 'db2-a';
  private watchers: (() => boolean)[] = [];

  /** Resolves once `condition` holds: checked now and after every connect, disconnect, statement and transaction end. */
  until(condition: () => boolean): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve) => {
      this.watchers.push(() => {
        if (!condition()) return false;
        resolve();
        return true;
      });
    });
  }

  private changed(): void {
    setImmediate(() => {
      this.watchers = this.watchers.filter((settled) => !settled());
    });
  }

  allocateConnection(): Session {
    const session = new Session(this.sessions.length + 1);
    this.sessions.push(session);
    return session;
  }

  /** Connections a Db2 would count: connected, and not lost. */
  get openConnections(): number {
    return this.sessions.filter((s) => s.connected && !s.lost).length;
  }

  /** Handles still connected from the CLI's side, lost ones included (a lost one never disconnected leaks). */
  get connectedHandles(): number {
    return this.sessions.filter((s) => s.connected).length;
  }

  /** Statement handles allocated and not yet freed, on every connection. */
  get openStatements(): number {
    return this.sessions.reduce((sum, s) => sum + s.statements.size, 0);
  }

  statements(prefix: string): Executed[] {
    return this.executed.filter((e) => e.sql.startsWith(prefix));
  }

  /** HADR takeover or pureScale member loss: every open connection is rerouted on its next request (SQL30108N). */
  failover(to = 'db2-b'): void {
    this.member = to;
    for (const session of this.sessions) if (session.connected && !session.lost) session.pending = DIAGNOSTICS.rerouted;
  }

  /** The network drops every open connection; each one learns it on its next request. */
  dropConnections(cause: Diagnostic = DIAGNOSTICS.communication): void {
    for (const session of this.sessions) if (session.connected && !session.lost) session.pending = cause;
  }

  private sleep(seconds: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, seconds * this.secondMs));
  }

  /**
   * SQLDriverConnect: the application code page is taken from the environment
   * now (code-page.ts), the keywords from the connection string over
   * db2cli.ini. Answers SQL_SUCCESS, SQL_SUCCESS_WITH_INFO or SQL_ERROR.
   */
  async connect(session: Session, connectionString: string, loginTimeout: number): Promise<{ rc: number; diagnostic: Diagnostic | null }> {
    this.connectionStrings.push(connectionString);
    this.loginTimeouts.push(loginTimeout);
    const refused = await this.refusal(loginTimeout);
    if (refused) {
      this.connectFailures += 1;
      this.changed();
      return { rc: SQL_ERROR, diagnostic: refused };
    }
    const keywords = connectionKeywords(connectionString);
    const user = (keywords.get('UID') ?? '').toUpperCase();
    const schema = (keywords.get('CURRENTSCHEMA') ?? user).toUpperCase();
    session.codePage = applicationCodePage();
    session.keywords = cliKeywords(keywords, this.cliIni);
    session.defaults = { schema, path: `${SYSTEM_PATH},"${user}"`, lockTimeout: null };
    session.registers = { ...session.defaults };
    session.member = this.member;
    session.connected = true;
    this.events.push(`connect ${session.id}`);
    this.maxOpenConnections = Math.max(this.maxOpenConnections, this.openConnections);
    this.changed();
    if (!this.connectWarning) return { rc: SQL_SUCCESS, diagnostic: null };
    this.events.push(`warned ${session.id} ${this.connectWarning.sqlstate}`);
    return { rc: SQL_SUCCESS_WITH_INFO, diagnostic: this.connectWarning };
  }

  /** A server that does not answer in time keeps the CLI waiting until SQL_ATTR_LOGIN_TIMEOUT (then SQL30081N), or for ever. */
  private async refusal(loginTimeout: number): Promise<Diagnostic | null> {
    if (this.accepting !== 'yes' && this.accepting !== 'hang') return this.accepting;
    const answersIn = this.accepting === 'hang' ? Infinity : this.loginSeconds;
    if (loginTimeout > 0 && loginTimeout < answersIn) {
      await this.sleep(loginTimeout);
      return DIAGNOSTICS.communication;
    }
    if (answersIn === Infinity) return new Promise<never>(() => undefined);
    if (answersIn > 0) await this.sleep(answersIn);
    return null;
  }

  /**
   * SQLDisconnect: "If an application calls SQLDisconnect before it has freed
   * all statements associated with the connection, the driver ... frees those
   * statements" (https://learn.microsoft.com/sql/odbc/reference/syntax/sqldisconnect-function).
   */
  disconnect(session: Session): void {
    if (session.connected) this.events.push(`disconnect ${session.id}`);
    session.connected = false;
    session.statements.clear();
    this.changed();
  }

  /**
   * SQLSetConnectAttr: client-side, no round trip. A string attribute given a
   * NULL pointer is refused: "HY009 Invalid use of null pointer: the Attribute
   * argument identified a connection attribute that required a string value,
   * and the ValuePtr argument was a null pointer" (ODBC SQLSetConnectAttr,
   * https://learn.microsoft.com/sql/odbc/reference/syntax/sqlsetconnectattr-function;
   * Db2 CLI: https://www.ibm.com/docs/en/db2/11.5.x?topic=functions-sqlsetconnectattr).
   */
  setConnectAttr(session: Session, attribute: number, value: string | number | null): Diagnostic | null {
    if (attribute === SQL_ATTR.AUTOCOMMIT) {
      session.autocommit = value === 1;
      if (value === 0) this.events.push(`begin ${session.id}`);
      return null;
    }
    const field = ({
      [SQL_ATTR.INFO_USERID]: 'user', [SQL_ATTR.INFO_WRKSTNNAME]: 'workstation', [SQL_ATTR.INFO_APPLNAME]: 'application', [SQL_ATTR.INFO_ACCTSTR]: 'accounting',
    } as const satisfies Record<number, keyof ClientInfo>)[attribute];
    if (!field) return diagnostic('HY092', -99999, `CLI0124E  Invalid argument value (attribute ${attribute} not modelled by the stand-in).`);
    if (value === null) return DIAGNOSTICS.nullPointer;
    session.clientInfo[field] = toDatabase(String(value), session.codePage);
    return null;
  }

  /** A request that reaches the server: a failure it has not seen yet surfaces now. */
  private reach(session: Session): Diagnostic | null {
    if (!session.connected) return DIAGNOSTICS.connectionClosed;
    if (session.lost) return session.lost;
    const pending = session.pending;
    if (!pending) return null;
    session.pending = null;
    if (pending === DIAGNOSTICS.rerouted) {
      // The unit of work is gone with the old member; the new one starts the session from the connect-time registers.
      session.member = this.member;
      session.registers = { ...session.defaults };
      this.events.push(`rerouted ${session.id} to ${session.member}`);
      if (!session.autocommit) this.onTransactionEnd(session.id, false);
    } else {
      this.lose(session);
    }
    return pending;
  }

  /** The server rolls back the unit of work of a connection it lost. */
  private lose(session: Session): void {
    session.lost = DIAGNOSTICS.noConnection;
    if (!session.autocommit) this.onTransactionEnd(session.id, false);
  }

  /** What a failed statement or fetch does to the connection: lost with it, or its unit of work rolled back (SQL0911N). */
  private failed(session: Session, failure: Diagnostic): void {
    if (CONNECTION_LOST.has(failure.sqlcode)) this.lose(session);
    if (failure.sqlcode === -911) {
      this.events.push(`rollback ${session.id} (server)`);
      this.onTransactionEnd(session.id, false);
    }
  }

  endTransaction(session: Session, rollback: boolean): Diagnostic | null {
    const failure = this.reach(session);
    if (failure) return failure;
    this.events.push(`${rollback ? 'rollback' : 'commit'} ${session.id}`);
    this.onTransactionEnd(session.id, !rollback);
    this.changed();
    return null;
  }

  /** SQLAllocHandle(SQL_HANDLE_STMT). */
  statementAllocated(session: Session, handle: object): void {
    session.statements.add(handle);
  }

  /** SQLFreeHandle(SQL_HANDLE_STMT); one the disconnect freed already is gone. */
  statementFreed(session: Session, handle: object): void {
    session.statements.delete(handle);
  }

  /** SQLPrepare: nothing reaches the server under deferred prepare (the default); otherwise the server prepares it now. */
  prepare(session: Session, sql: string): Diagnostic | null {
    if (session.keywords.deferredPrepare) return null;
    return this.reach(session) ?? this.refusePrepare(toDatabase(sql, session.codePage)) ?? null;
  }

  /** SQLExecute / SQLExecDirect: the server runs it (preparing it first unless SQLPrepare did); the CLI writes the output buffers. */
  async execute(session: Session, text: string, params: BoundParameter[], queryTimeout: number, prepared = false): Promise<ExecuteOutcome> {
    const failed = (d: Diagnostic): ExecuteOutcome => ({ rc: SQL_ERROR, diagnostic: d, cursor: null, out: [] });
    const unreachable = this.reach(session);
    if (unreachable) return failed(unreachable);
    const sql = toDatabase(text, session.codePage);
    const register = applyRegisterStatement(session, sql.trim(), this.lockTimeoutRegister);
    if (register !== undefined) return register ? failed(register) : { rc: SQL_SUCCESS, diagnostic: null, cursor: null, out: [] };
    const unpreparable = prepared ? undefined : this.refusePrepare(sql);
    if (unpreparable) return failed(unpreparable);

    const inputs = params.map((p) => (p.paramType === 4 ? undefined : inputValue(p, session.codePage)));
    // While the migrations and the driver's catalogue disagree on a procedure, Db2 would refuse the CALL; the values' own types stand in.
    const declared = await declaredParameters(sql);
    if (declared?.length === params.length) {
      const tooLong = declared.map((d, i) => (d.direction === 'OUT' ? null : assignmentFailure(d.type, inputs[i]))).find(Boolean);
      if (tooLong) return failed(tooLong);
    }
    const statement: Executed = {
      connection: session.id, member: session.member, sql, params, inputs,
      registers: { ...session.registers }, clientInfo: { ...session.clientInfo }, autocommit: session.autocommit, queryTimeout, cli: session.keywords,
    };
    this.executed.push(statement);
    this.changed();
    let reply: Reply | undefined;
    try {
      reply = await this.withTimeouts(session, queryTimeout, () => this.respond(statement));
    } catch (error) {
      if (!(error instanceof Db2Failure)) throw error;
      this.failed(session, error.diagnostic);
      return failed(error.diagnostic);
    }
    if (reply?.noData) return { rc: SQL_NO_DATA, diagnostic: DIAGNOSTICS.noData, cursor: null, out: [] };
    const outputs = params.filter(isOutput);
    const declaredOut = declared?.filter((d) => d.direction !== 'IN').map((d) => d.type);
    const types = reply?.outTypes ?? (declaredOut?.length === outputs.length ? declaredOut : undefined);
    let warning = reply?.warning ?? null;
    const out = outputs.map((param, k) => {
      const value = reply?.out?.[k] ?? null;
      const written = writeOutput(types?.[k] ?? typeOfValue(value), value, param, session.codePage);
      if (written.truncated) warning ??= DIAGNOSTICS.truncated;
      return written.buffer;
    });
    const cursor = reply?.columns
      ? { session, columns: reply.columns, rows: reply.rows ?? [], position: 0, ...(reply.fetchFailure ? { failure: reply.fetchFailure } : {}) }
      : null;
    return { rc: warning ? SQL_SUCCESS_WITH_INFO : SQL_SUCCESS, diagnostic: warning, cursor, out };
  }

  /** SQLFetch: the next row, the end, or the failure the cursor breaks on (the server's effects included: SQL0911N rolls back). */
  fetch(cursor: Cursor): FetchOutcome {
    if (cursor.failure && cursor.position >= cursor.failure.afterRows) {
      const { diagnostic: failure } = cursor.failure;
      this.failed(cursor.session, failure);
      cursor.rows = [];
      delete cursor.failure;
      return { rc: SQL_ERROR, diagnostic: failure };
    }
    const row = cursor.rows[cursor.position];
    if (!row) return { rc: SQL_NO_DATA };
    cursor.position += 1;
    return { rc: SQL_SUCCESS, row };
  }

  /** SQLGetData of one column into the C type ODBC::GetColumnValue asks for: text in the connection's application code page. */
  getData(cursor: Cursor, column: Column, value: Db2Value, cType: number): number | Buffer | null {
    return columnData(column, value, cType, cursor.session.codePage);
  }

  /**
   * A lock wait ends at CURRENT LOCK TIMEOUT (SQL0911N, reason 68), on the
   * server. A query timeout ends any wait, but only when the CLI's timeout
   * thread next looks: it checks every QueryTimeoutInterval seconds, so the
   * cancel (SQL0952N) comes between N and N + interval seconds after the
   * start (QueryTimeoutInterval keyword page, session.ts).
   */
  private async withTimeouts(session: Session, queryTimeout: number, answer: () => Reply | undefined | Promise<Reply | undefined>): Promise<Reply | undefined> {
    const limits: Promise<never>[] = [];
    const fail = (ms: number, d: Diagnostic) => new Promise<never>((_, reject) => setTimeout(() => reject(new Db2Failure(d)), ms).unref());
    if (queryTimeout > 0) limits.push(fail(this.queryTimeoutDelay(queryTimeout, session.keywords.queryTimeoutInterval), DIAGNOSTICS.cancelled));
    const reply = Promise.resolve().then(answer);
    const first = await Promise.race([reply, ...limits]);
    if (!first?.lockWait) return first;
    const lockTimeout = session.registers.lockTimeout;
    if (lockTimeout !== null && lockTimeout >= 0) limits.push(fail(lockTimeout * this.secondMs, DIAGNOSTICS.lockTimeout));
    return Promise.race([new Promise<never>(() => undefined), ...limits]);
  }

  /** Milliseconds from now to the timeout thread's first check at or after `seconds` from now. */
  private queryTimeoutDelay(seconds: number, intervalSeconds: number): number {
    const now = Date.now();
    const due = now + seconds * this.secondMs;
    const interval = intervalSeconds * this.secondMs;
    if (interval <= 0) return due - now;
    return this.started + Math.ceil((due - this.started) / interval) * interval - now;
  }
}
