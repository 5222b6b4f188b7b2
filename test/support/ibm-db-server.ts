// A scripted Db2 below the ibm_db addon stand-in: what the CLI driver and the
// server keep per connection (special registers, client information,
// autocommit, statement handles, member after a reroute) and how they answer
// a statement, as each test scripts it. It never pretends to run SQL.
import { loadMigrations } from '../../db/migrate.js';

// sqlcli.h / sqlext.h
export const SQL_SUCCESS = 0;
export const SQL_SUCCESS_WITH_INFO = 1;
export const SQL_NO_DATA = 100;
export const SQL_ERROR = -1;
export const SQL_TYPE = {
  CHAR: 1, NUMERIC: 2, DECIMAL: 3, INTEGER: 4, SMALLINT: 5, FLOAT: 6, REAL: 7, DOUBLE: 8, VARCHAR: 12,
  LONGVARCHAR: -1, BIGINT: -5, TINYINT: -6, BOOLEAN: 16, DECFLOAT: -360, TYPE_DATE: 91, TYPE_TIME: 92, TYPE_TIMESTAMP: 93,
} as const;
export const SQL_C = { CHAR: 1, SLONG: -16, DOUBLE: 8, SBIGINT: -25, DEFAULT: 99, BINARY: -2 } as const;
export const SQL_ATTR = { AUTOCOMMIT: 102, LOGIN_TIMEOUT: 103, INFO_USERID: 1281, INFO_WRKSTNNAME: 1282, INFO_APPLNAME: 1283, INFO_ACCTSTR: 1284, QUERY_TIMEOUT: 0 } as const;

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

export const DIAGNOSTICS = {
  communication: { sqlstate: '08001', sqlcode: -30081, message: '[IBM][CLI Driver] SQL30081N  A communication error has been detected. Communication protocol being used: "TCP/IP".  Communication API being used: "SOCKETS".  Location where the error was detected: "10.0.0.5".  Communication function detecting the error: "recv".  Protocol specific error code(s): "104", "*", "0".  SQLSTATE=08001' },
  rerouted: { sqlstate: '08506', sqlcode: -30108, message: '[IBM][CLI Driver] SQL30108N  A connection failed but has been re-established. Hostname or IP address: "db2-b.example.internal". Service name or port number: "50000". Special register settings might have been replayed. (Reason code = "1").  SQLSTATE=08506' },
  noConnection: diagnostic('08003', -900, 'The application state is in error.  A database connection does not exist.'),
  lockTimeout: diagnostic('40001', -911, 'The current transaction has been rolled back because of a deadlock or timeout.  Reason code "68".'),
  cancelled: diagnostic('57014', -952, 'Processing was cancelled due to an interrupt.'),
  truncated: { sqlstate: '01004', sqlcode: -99999, message: '[IBM][CLI Driver] CLI0002W  Data truncated. SQLSTATE=01004' },
  connectionClosed: { sqlstate: '08003', sqlcode: -99999, message: '[IBM][CLI Driver] CLI0106E  Connection is closed. SQLSTATE=08003' },
} satisfies Record<string, Diagnostic>;

/** SQLCODEs after which the CLI's connection is gone. */
const CONNECTION_LOST = new Set([-30080, -30081, -1224, -900]);

/** Thrown by a responder: the statement ends in SQL_ERROR with this diagnostic. */
export class Db2Failure extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.message);
  }
}

export const db2Error = (sqlstate: string, sqlcode: number, text?: string) => new Db2Failure(diagnostic(sqlstate, sqlcode, text));

/** Values as Db2 holds them: numbers, text (DECIMAL too), Date for TIMESTAMP, 'YYYY-MM-DD' for DATE. */
export type Db2Value = string | number | Date | null;

export interface Column {
  name: string;
  /** As Db2 declares it: INTEGER, BIGINT, DECIMAL(15,2), CHAR(6), VARCHAR(20), TIMESTAMP, DATE… */
  type: string;
}

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
}

/** What sits in a bound parameter's buffer (ODBC::GetParametersFromArray), by the C type it is labelled with. */
export type ParameterBuffer =
  | { kind: 'null' }
  | { kind: 'int64'; value: bigint }
  | { kind: 'double'; value: number }
  | { kind: 'chars'; value: string };

export interface BoundParameter {
  /** SQL_PARAM_INPUT 1, SQL_PARAM_INPUT_OUTPUT 2, SQL_PARAM_OUTPUT 4. */
  paramType: number;
  cType: number;
  sqlType: number;
  bufferLength: number;
  buffer: ParameterBuffer;
}

/** What the CLI writes back into an output parameter's buffer. */
export type OutputBuffer = { kind: 'null' } | { kind: 'number'; value: number } | { kind: 'chars'; value: string };

export interface Registers {
  schema: string;
  path: string;
  /** CURRENT LOCK TIMEOUT in seconds; null: the database's LOCKTIMEOUT (here: wait forever). */
  lockTimeout: number | null;
}

export interface ClientInfo {
  user: string;
  workstation: string;
  application: string;
  accounting: string;
}

/** One statement as the server received it. */
export interface Executed {
  connection: number;
  member: string;
  sql: string;
  /** Input values as Db2 received them (output positions: undefined). */
  inputs: (string | number | bigint | null | undefined)[];
  params: BoundParameter[];
  registers: Registers;
  clientInfo: ClientInfo;
  autocommit: boolean;
  /** SQL_ATTR_QUERY_TIMEOUT of the statement handle, seconds. */
  queryTimeout: number;
}

export type Responder = (statement: Executed) => Reply | undefined | Promise<Reply | undefined>;

export interface ExecuteOutcome {
  rc: number;
  diagnostic: Diagnostic | null;
  cursor: { columns: Column[]; rows: Db2Value[][] } | null;
  out: OutputBuffer[];
}

export class Session {
  connected = false;
  /** Lost: every request answers this until the handle is disconnected. */
  lost: Diagnostic | null = null;
  /** Answered by the next request (a failover or a dropped connection the CLI has not noticed yet). */
  pending: Diagnostic | null = null;
  member = 'db2-a';
  autocommit = true;
  registers: Registers = { schema: '', path: '', lockTimeout: null };
  clientInfo: ClientInfo = { user: '', workstation: '', application: '', accounting: '' };
  defaults: Registers = { schema: '', path: '', lockTimeout: null };
  openStatements = 0;
  constructor(readonly id: number) {}
}

const SYSTEM_PATH = '"SYSIBM","SYSFUN","SYSPROC","SYSIBMADM"';

function identifier(text: string): string {
  const trimmed = text.trim();
  return trimmed.startsWith('"') ? trimmed.slice(1, -1) : trimmed.replace(/^'(.*)'$/, '$1').toUpperCase();
}

/** 'YYYY-MM-DD-HH.MM.SS.ffffff': a TIMESTAMP assigned to a character string by the server. */
export function db2TimestampText(value: Date | string): string {
  if (typeof value === 'string') return value;
  const iso = value.toISOString();
  return `${iso.slice(0, 10)}-${iso.slice(11, 13)}.${iso.slice(14, 16)}.${iso.slice(17, 19)}.${iso.slice(20, 23)}000`;
}

/** 'YYYY-MM-DD HH:MM:SS.ffffff': a TIMESTAMP fetched into SQL_C_CHAR by the CLI (TimestampDefaultCMapping=1 form). */
function cliTimestampText(value: Date | string): string {
  const text = db2TimestampText(value);
  return `${text.slice(0, 10)} ${text.slice(11, 13)}:${text.slice(14, 16)}:${text.slice(17)}`;
}

function baseType(declared: string): { base: string; length?: number; scale?: number } {
  const [, base = declared, length, scale] = /^(\w+)(?:\((\d+)(?:,(\d+))?\))?$/.exec(declared.replace(/\s+/g, '').toUpperCase()) ?? [];
  return { base, ...(length ? { length: Number(length) } : {}), ...(scale ? { scale: Number(scale) } : {}) };
}

/** The text Db2 makes of a value of the declared type when it is assigned to a character host variable. */
function asDb2Text(declared: string, value: Exclude<Db2Value, null>): string {
  const { base, length, scale } = baseType(declared);
  if (base === 'TIMESTAMP') return db2TimestampText(value instanceof Date ? value : String(value));
  if (base === 'DECIMAL' || base === 'NUMERIC') return Number(value).toFixed(scale ?? 0);
  if (base === 'CHAR') return String(value).padEnd(length ?? 1);
  return String(value);
}

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');
function truncateBytes(text: string, bytes: number): string {
  let out = text;
  while (utf8(out) > bytes) out = out.slice(0, -1);
  return out;
}

type ProcedureTypes = Map<string, string[]>;
let procedureTypes: Promise<ProcedureTypes> | undefined;

/** OUT parameter types of every procedure the Db2 migrations create: what Db2 assigns to the bound buffers. */
function declaredOutTypes(): Promise<ProcedureTypes> {
  procedureTypes ??= loadMigrations('db2').then((migrations) => {
    const found: ProcedureTypes = new Map();
    const sql = migrations.map((m) => m.sql).join('\n');
    for (const [, name = '', params = ''] of sql.matchAll(/CREATE\s+(?:OR\s+REPLACE\s+)?PROCEDURE\s+(?:\S+\.)?(\w+)\s*\(([\s\S]*?)\)\s*(?:LANGUAGE|SPECIFIC)/gi)) {
      const types: string[] = [];
      for (const raw of params.replace(/--.*$/gm, '').split(/,(?![^(]*\))/)) {
        const [, direction = '', type = ''] = /^\s*(IN|OUT|INOUT)\s+\w+\s+(\w+(?:\s*\([\d,\s]+\))?)/i.exec(raw) ?? [];
        if (direction.toUpperCase() !== 'IN') types.push(type.replace(/\s+/g, '').toUpperCase());
      }
      found.set(name.toUpperCase(), types);
    }
    return found;
  });
  return procedureTypes;
}

function typeOfValue(value: Db2Value): string {
  if (value instanceof Date) return 'TIMESTAMP';
  if (typeof value === 'number') return Number.isInteger(value) ? 'INTEGER' : 'DOUBLE';
  return 'VARCHAR';
}

export class ScriptedDb2 {
  /** How many real milliseconds one of Db2's seconds lasts here (login, lock and query timeouts are in seconds). */
  secondMs = 1000;
  respond: Responder = () => undefined;
  /** Told when a connection's unit of work ends: committed, or rolled back (by the application, a deadlock or a reroute). */
  onTransactionEnd: (connection: number, committed: boolean) => void = () => undefined;
  /** 'hang': the server never answers a connect; a Diagnostic: connects fail with it. */
  accepting: 'yes' | 'hang' | Diagnostic = 'yes';
  /** False: SET CURRENT LOCK TIMEOUT is unknown (Db2 12 for z/OS). */
  lockTimeoutRegister = true;
  readonly executed: Executed[] = [];
  readonly events: string[] = [];
  readonly connectionStrings: string[] = [];
  maxOpenConnections = 0;
  connectFailures = 0;
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
    this.watchers = this.watchers.filter((settled) => !settled());
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

  get openStatements(): number {
    return this.sessions.reduce((sum, s) => sum + s.openStatements, 0);
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

  async connect(session: Session, connectionString: string, loginTimeout: number): Promise<Diagnostic | null> {
    this.connectionStrings.push(connectionString);
    const refused = await this.refusal(loginTimeout);
    if (refused) {
      this.connectFailures += 1;
      setImmediate(() => this.changed());
      return refused;
    }
    const keywords = new Map(connectionString.split(';').filter(Boolean).map((pair) => {
      const [key = '', ...rest] = pair.split('=');
      return [key.trim().toUpperCase(), rest.join('=').replace(/^\{(.*)\}$/, '$1')] as const;
    }));
    const user = (keywords.get('UID') ?? '').toUpperCase();
    const schema = (keywords.get('CURRENTSCHEMA') ?? user).toUpperCase();
    session.defaults = { schema, path: `${SYSTEM_PATH},"${user}"`, lockTimeout: null };
    session.registers = { ...session.defaults };
    session.member = this.member;
    session.connected = true;
    this.events.push(`connect ${session.id}`);
    this.maxOpenConnections = Math.max(this.maxOpenConnections, this.openConnections);
    setImmediate(() => this.changed());
    return null;
  }

  /** A server that does not answer keeps the CLI waiting until SQL_ATTR_LOGIN_TIMEOUT (then SQL30081N), or for ever. */
  private async refusal(loginTimeout: number): Promise<Diagnostic | null> {
    if (this.accepting === 'yes') return null;
    if (this.accepting !== 'hang') return this.accepting;
    if (loginTimeout <= 0) return new Promise<never>(() => undefined);
    await this.sleep(loginTimeout);
    return DIAGNOSTICS.communication;
  }

  disconnect(session: Session): void {
    if (session.connected) this.events.push(`disconnect ${session.id}`);
    session.connected = false;
    setImmediate(() => this.changed());
  }

  /** SQLSetConnectAttr: client-side, no round trip. */
  setConnectAttr(session: Session, attribute: number, value: string | number | null): Diagnostic | null {
    switch (attribute) {
      case SQL_ATTR.AUTOCOMMIT: session.autocommit = value === 1; if (value === 0) this.events.push(`begin ${session.id}`); return null;
      case SQL_ATTR.INFO_USERID: session.clientInfo.user = String(value ?? ''); return null;
      case SQL_ATTR.INFO_WRKSTNNAME: session.clientInfo.workstation = String(value ?? ''); return null;
      case SQL_ATTR.INFO_APPLNAME: session.clientInfo.application = String(value ?? ''); return null;
      case SQL_ATTR.INFO_ACCTSTR: session.clientInfo.accounting = String(value ?? ''); return null;
      default: return diagnostic('HY092', -99999, `CLI0124E  Invalid argument value (attribute ${attribute} not modelled by the stand-in).`);
    }
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

  endTransaction(session: Session, rollback: boolean): Diagnostic | null {
    const failure = this.reach(session);
    if (failure) return failure;
    this.events.push(`${rollback ? 'rollback' : 'commit'} ${session.id}`);
    this.onTransactionEnd(session.id, !rollback);
    setImmediate(() => this.changed());
    return null;
  }

  /** Special registers are the server's own business; every other statement is the test's. */
  private setRegister(session: Session, sql: string): Diagnostic | null | undefined {
    const schema = /^SET\s+(?:CURRENT\s+)?SCHEMA\s*=?\s*(.+)$/i.exec(sql);
    if (schema?.[1]) {
      session.registers.schema = identifier(schema[1]);
      return null;
    }
    const path = /^SET\s+(?:CURRENT\s+)?PATH\s*=?\s*(.+)$/i.exec(sql);
    if (path?.[1]) {
      session.registers.path = path[1].split(',').map((part) => part.trim())
        .map((part) => (/^SYSTEM\s+PATH$/i.test(part) ? SYSTEM_PATH : `"${identifier(part)}"`)).join(',');
      return null;
    }
    const lock = /^SET\s+CURRENT\s+LOCK\s+TIMEOUT\s*=?\s*(.+)$/i.exec(sql);
    if (lock?.[1]) {
      if (!this.lockTimeoutRegister) return diagnostic('42601', -104, 'An unexpected token "LOCK TIMEOUT" was found following "SET CURRENT".  Expected tokens may include:  "PACKAGESET".');
      const value = lock[1].trim().toUpperCase();
      session.registers.lockTimeout = value === 'NULL' ? null : value === 'NOT WAIT' ? 0 : value === 'WAIT' ? -1 : Number(value.replace(/^WAIT\s+/, ''));
      return null;
    }
    return undefined;
  }

  statementAllocated(session: Session): void {
    session.openStatements += 1;
  }

  statementFreed(session: Session): void {
    session.openStatements -= 1;
  }

  /** SQLExecute / SQLExecDirect: the server runs it; the CLI writes the output buffers. */
  async execute(session: Session, sql: string, params: BoundParameter[], queryTimeout: number): Promise<ExecuteOutcome> {
    const failed = (d: Diagnostic): ExecuteOutcome => ({ rc: SQL_ERROR, diagnostic: d, cursor: null, out: [] });
    const unreachable = this.reach(session);
    if (unreachable) return failed(unreachable);
    const register = this.setRegister(session, sql.trim());
    if (register !== undefined) return register ? failed(register) : { rc: SQL_SUCCESS, diagnostic: null, cursor: null, out: [] };

    const statement: Executed = {
      connection: session.id, member: session.member, sql, params,
      inputs: params.map((p) => (p.paramType === 4 ? undefined : inputValue(p))),
      registers: { ...session.registers }, clientInfo: { ...session.clientInfo }, autocommit: session.autocommit, queryTimeout,
    };
    this.executed.push(statement);
    setImmediate(() => this.changed());
    let reply: Reply | undefined;
    try {
      reply = await this.withTimeouts(session, queryTimeout, () => this.respond(statement));
    } catch (error) {
      if (!(error instanceof Db2Failure)) throw error;
      if (CONNECTION_LOST.has(error.diagnostic.sqlcode)) this.lose(session);
      if (error.diagnostic.sqlcode === -911) {
        this.events.push(`rollback ${session.id} (server)`);
        this.onTransactionEnd(session.id, false);
      }
      return failed(error.diagnostic);
    }
    const outputs = params.filter((p) => p.paramType % 2 === 0).length;
    const declared = (await declaredOutTypes()).get(/^CALL\s+(?:\S+\.)?(\w+)/i.exec(sql)?.[1]?.toUpperCase() ?? '');
    // While the migrations and the catalogue disagree on a procedure, Db2 would refuse the CALL; the values' own types stand in.
    const types = reply?.outTypes ?? (declared?.length === outputs ? declared : undefined);
    let warning = reply?.warning ?? null;
    const out: OutputBuffer[] = [];
    let k = 0;
    for (const param of params) {
      if (param.paramType % 2 !== 0) continue;
      const value = reply?.out?.[k] ?? null;
      const written = writeOutput(types?.[k] ?? typeOfValue(value), value, param);
      k += 1;
      out.push(written.buffer);
      if (written.truncated) warning ??= DIAGNOSTICS.truncated;
    }
    const cursor = reply?.columns ? { columns: reply.columns, rows: reply.rows ?? [] } : null;
    return { rc: warning ? SQL_SUCCESS_WITH_INFO : SQL_SUCCESS, diagnostic: warning, cursor, out };
  }

  /** A lock wait ends at CURRENT LOCK TIMEOUT (SQL0911N, reason 68); any wait ends at the query timeout (the CLI cancels: SQL0952N). */
  private async withTimeouts(session: Session, queryTimeout: number, answer: () => Reply | undefined | Promise<Reply | undefined>): Promise<Reply | undefined> {
    const limits: Promise<never>[] = [];
    const fail = (seconds: number, d: Diagnostic) => new Promise<never>((_, reject) => setTimeout(() => reject(new Db2Failure(d)), seconds * this.secondMs).unref());
    if (queryTimeout > 0) limits.push(fail(queryTimeout, DIAGNOSTICS.cancelled));
    const reply = Promise.resolve().then(answer);
    const first = await Promise.race([reply, ...limits]);
    if (!first?.lockWait) return first;
    const lockTimeout = session.registers.lockTimeout;
    if (lockTimeout !== null && lockTimeout >= 0) limits.push(fail(lockTimeout, DIAGNOSTICS.lockTimeout));
    return Promise.race([new Promise<never>(() => undefined), ...limits]);
  }

  /** SQLGetData of one column into the C type ODBC::GetColumnValue asks for. */
  getData(column: Column, value: Db2Value, cType: number): string | number | null {
    if (value === null) return null;
    if (cType === SQL_C.SLONG || cType === SQL_C.DOUBLE) return Number(value);
    const { base } = baseType(column.type);
    if (base === 'TIMESTAMP') return cliTimestampText(value instanceof Date ? value : String(value));
    return asDb2Text(column.type, value);
  }
}

/** What Db2 received for an input parameter: the buffer read as its C type says. */
function inputValue(param: BoundParameter): string | number | bigint | null {
  const { buffer } = param;
  if (buffer.kind === 'null') return null;
  if (param.cType === SQL_C.SBIGINT) {
    if (buffer.kind === 'int64') return Number(buffer.value);
    if (buffer.kind === 'double') {
      // ODBC::GetNumberParam leaves the SBIGINT label on a double: the CLI reads the double's bytes as an integer.
      const bytes = new DataView(new ArrayBuffer(8));
      bytes.setFloat64(0, buffer.value, true);
      return bytes.getBigInt64(0, true);
    }
  }
  if (buffer.kind === 'chars') return buffer.value;
  return Number(buffer.value);
}

/** Db2 assigns the procedure's OUT value to the bound buffer; the CLI truncates text to the buffer (01004). */
function writeOutput(declared: string, value: Db2Value, param: BoundParameter): { buffer: OutputBuffer; truncated: boolean } {
  if (value === null) return { buffer: { kind: 'null' }, truncated: false };
  const integerTypes: number[] = [SQL_TYPE.BIGINT, SQL_TYPE.INTEGER, SQL_TYPE.SMALLINT];
  if (integerTypes.includes(param.sqlType) && param.cType === SQL_C.SBIGINT) {
    return { buffer: { kind: 'number', value: Math.trunc(Number(value)) }, truncated: false };
  }
  const floatingTypes: number[] = [SQL_TYPE.DOUBLE, SQL_TYPE.DECIMAL, SQL_TYPE.FLOAT, SQL_TYPE.REAL];
  if (floatingTypes.includes(param.sqlType) && param.cType === SQL_C.DOUBLE && !(value instanceof Date)) {
    return { buffer: { kind: 'number', value: Number(value) }, truncated: false };
  }
  const textTypes: number[] = [SQL_TYPE.VARCHAR, SQL_TYPE.CHAR, SQL_TYPE.LONGVARCHAR];
  if (textTypes.includes(param.sqlType) && param.cType === SQL_C.CHAR) {
    const text = asDb2Text(declared, value);
    const kept = truncateBytes(text, Math.max(0, param.bufferLength - 1));
    return { buffer: { kind: 'chars', value: kept }, truncated: kept !== text };
  }
  throw new Error(`stand-in: an OUT parameter of SQL type ${param.sqlType} in a C type ${param.cType} buffer is not modelled`);
}
