// The Db2 host through ibm_db: its own bounded acquire queue with a timeout
// (ibm_db's Pool queues callers forever once maxPoolSize is reached),
// connections always given back in `finally`, stale ones (SQL30081N after an
// idle period or a Db2 restart) discarded and the statement retried once when
// it is safe to run twice, and SQLSTATEs mapped to the errors of every driver.
import { CallCounter, HostConflictError, HostError, HostUnavailableError, type CallListener, type Host, type HostValue, type Row } from '../host.js';
import type { HostOptions } from '../open.js';
import { procedures, positionalArgs, type ProcedureName } from '../procedures.js';
import type { Statement } from '../statements.js';
import { loadIbmDb, type Db2Binding, type Db2Connection, type Db2Error, type Db2Param, type Db2Pool } from './binding.js';
import { parseDb2Url, type Db2Target } from './connection.js';

/** Db2 types of the OUT parameters, by name (the same name means the same type in every procedure). */
export const OUT_TYPES: Record<string, { type: string; length?: number }> = {
  status: { type: 'INTEGER' }, retry_after: { type: 'INTEGER' }, sessions: { type: 'INTEGER' },
  audit_rows: { type: 'INTEGER' }, customer_id: { type: 'VARCHAR', length: 12 },
  bank_id: { type: 'VARCHAR', length: 11 }, role: { type: 'VARCHAR', length: 8 },
  account_id: { type: 'VARCHAR', length: 20 }, device: { type: 'VARCHAR', length: 64 },
  session_hash: { type: 'CHAR', length: 16 }, created_at: { type: 'TIMESTAMP', length: 32 },
  last_seen_at: { type: 'TIMESTAMP', length: 32 }, idle_expires_at: { type: 'TIMESTAMP', length: 32 },
  absolute_expires_at: { type: 'TIMESTAMP', length: 32 }, transfer_id: { type: 'CHAR', length: 36 },
  from_account: { type: 'VARCHAR', length: 20 }, to_account: { type: 'VARCHAR', length: 20 },
  amount: { type: 'DECIMAL', length: 17 }, currency: { type: 'CHAR', length: 3 },
  reference: { type: 'VARCHAR', length: 140 }, booked_at: { type: 'TIMESTAMP', length: 32 },
};

/** SQLSTATEs and SQLCODEs meaning the connection is dead: discard it. */
const STALE_STATES = new Set(['08001', '08003', '08004', '08007', '08S01', '40003']);
const STALE_CODES = new Set([-30080, -30081, -30108, -1224, -1776, -900]);
/** SQL1598N: no Db2 Connect licence for z/OS. Permanent, but the request still cannot be served. */
const NO_DB2_CONNECT_LICENCE = -1598;

export function isStale(error: unknown): boolean {
  const { state, sqlcode } = error as Db2Error;
  return (state !== undefined && STALE_STATES.has(state)) || (sqlcode !== undefined && STALE_CODES.has(sqlcode));
}

export function translate(error: unknown): Error {
  if (error instanceof HostError) return error;
  const { state, sqlcode, message } = error as Db2Error;
  const text = message ?? String(error);
  if (state === '23505' || sqlcode === -803) return new HostConflictError(text, state, { cause: error });
  if (isStale(error) || sqlcode === NO_DB2_CONNECT_LICENCE || state?.startsWith('08') || state?.startsWith('57')
    || state === '40001' || sqlcode === -911 || sqlcode === -913) {
    return new HostUnavailableError(text, state, { cause: error });
  }
  return new HostError(text, state, { cause: error });
}

/** Db2 reads 'YYYY-MM-DD-HH.MM.SS.ffffff'; this schema keeps every TIMESTAMP in UTC. */
export function db2Timestamp(date: Date): string {
  const iso = date.toISOString(); // 2026-11-25T10:00:00.123Z
  return `${iso.slice(0, 10)}-${iso.slice(11, 13)}.${iso.slice(14, 16)}.${iso.slice(17, 19)}.${iso.slice(20, 23)}000`;
}

function inputParam(value: unknown): Db2Param {
  if (value instanceof Date) return { ParamType: 'INPUT', DataType: 'TIMESTAMP', Data: db2Timestamp(value) };
  if (typeof value === 'number') return { ParamType: 'INPUT', DataType: Number.isInteger(value) ? 'BIGINT' : 'DOUBLE', Data: value };
  if (typeof value === 'boolean') return { ParamType: 'INPUT', DataType: 'SMALLINT', Data: value ? 1 : 0 };
  // Strings (decimals included: Db2 casts a string to DECIMAL on assignment) and NULL.
  return { ParamType: 'INPUT', DataType: 'VARCHAR', Data: value ?? null };
}

function outputParam(name: string): Db2Param {
  const { type, length } = OUT_TYPES[name] ?? { type: 'VARCHAR', length: 256 };
  return { ParamType: 'OUTPUT', DataType: type, Data: type === 'INTEGER' ? 0 : '', ...(length ? { Length: length } : {}) };
}

/** Db2 answers column names in upper case; the mappers above db/ expect lower case. */
function lowerKeys(row: Record<string, unknown>): Row {
  const out: Row = {};
  for (const [key, value] of Object.entries(row)) out[key.toLowerCase()] = value as HostValue;
  return out;
}

const promised = <T>(run: (callback: (error: Db2Error | null, result: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => run((error, result) => (error ? reject(error) : resolve(result))));

/** Statements of a Db2 script are separated by lines holding only "@". */
export function splitScript(sql: string, schema: string): string[] {
  return sql.replace(/\$\{SCHEMA\}/g, schema).split(/^\s*@\s*$/m)
    .map((statement) => statement.replace(/^\s*--.*$/gm, '').trim())
    .filter(Boolean);
}

export class Db2Host implements Host {
  readonly dialect = 'db2' as const;
  readonly description: string;
  private readonly counter = new CallCounter();
  private readonly pool: Db2Pool;
  private readonly callText: Record<string, string> = {};
  private busy = 0;
  private readonly waiting: (() => void)[] = [];
  private closed = false;

  constructor(private readonly target: Db2Target, binding: Db2Binding, private readonly options: HostOptions) {
    this.description = target.description;
    this.pool = new binding.Pool({ maxPoolSize: options.poolSize, connectTimeout: Math.ceil(options.acquireTimeoutMs / 1000) });
    for (const [name, signature] of Object.entries(procedures)) {
      const markers = [...signature.in, ...signature.out].map(() => '?').join(', ');
      this.callText[name] = `CALL ${target.schema}.${name.toUpperCase()}(${markers})`;
    }
  }

  async call(procedure: ProcedureName, args: Record<string, HostValue>): Promise<Row> {
    const signature = procedures[procedure];
    const params = [...positionalArgs(procedure, args).map(inputParam), ...signature.out.map(outputParam)];
    const idempotent = 'idempotent' in signature && signature.idempotent === true;
    const result = await this.counter.time(procedure, () => this.withConnection(idempotent, (connection) =>
      promised<unknown>((done) => connection.query(this.callText[procedure], params, done))));
    // ibm_db returns the OUT parameters' values, in order, as an array.
    const values = Array.isArray(result) ? result : [];
    return Object.fromEntries(signature.out.map((name, i) => [name, (values[i] ?? null) as HostValue]));
  }

  async query(statement: Statement, params: readonly HostValue[]): Promise<Row[]> {
    // Every named statement is a read or an idempotent write: safe to retry once.
    const rows = await this.counter.time(statement.name, () => this.withConnection(true, (connection) =>
      promised<unknown>((done) => connection.query(statement.sql, params.map(inputParam), done))));
    return (Array.isArray(rows) ? rows : []).map((row) => lowerKeys(row as Record<string, unknown>));
  }

  async ping(): Promise<void> {
    await this.withConnection(true, (connection) =>
      promised<unknown>((done) => connection.query('SELECT 1 AS OK FROM SYSIBM.SYSDUMMY1', [], done)));
  }

  runScript(sql: string): Promise<void> {
    return this.inTransaction(async (run) => {
      for (const statement of splitScript(sql, this.target.schema)) await run(statement);
    }).then(() => undefined);
  }

  async appliedMigrations(): Promise<Set<string>> {
    const schema = this.target.schema;
    await this.inTransaction(async (run) => {
      try {
        await run(`CREATE TABLE ${schema}.SCHEMA_MIGRATION (VERSION VARCHAR(100) NOT NULL PRIMARY KEY, `
          + 'APPLIED_AT TIMESTAMP NOT NULL DEFAULT CURRENT TIMESTAMP)');
      } catch (error) {
        if ((error as Db2Error).state !== '42710') throw error; // 42710: it exists already
      }
    });
    const rows = await this.withConnection(true, (connection) =>
      promised<unknown>((done) => connection.query(`SELECT VERSION FROM ${schema}.SCHEMA_MIGRATION`, [], done)));
    return new Set((rows as Record<string, unknown>[]).map((row) => String(lowerKeys(row).version)));
  }

  async applyMigration(version: string, sql: string): Promise<boolean> {
    const schema = this.target.schema;
    try {
      await this.inTransaction(async (run) => {
        // The marker first: a concurrent instance waits on its key, then fails with 23505 and skips.
        await run(`INSERT INTO ${schema}.SCHEMA_MIGRATION (VERSION) VALUES (?)`, [version]);
        for (const statement of splitScript(sql, schema)) {
          try {
            await run(statement);
          } catch (error) {
            // The SAMPLE database may already hold EMPLOYEE: keep it.
            const sampleTable = /^CREATE (UNIQUE )?(TABLE|INDEX) \S+\.EMPLOYEE/i.test(statement);
            if (!(sampleTable && (error as Db2Error).state === '42710')) throw error;
          }
        }
      });
      return true;
    } catch (error) {
      if (error instanceof HostConflictError) return false;
      throw error;
    }
  }

  stats() {
    return {
      ...this.counter.snapshot(),
      pool: { inUse: this.busy, open: this.busy, waiting: this.waiting.length, max: this.options.poolSize },
    };
  }

  onCall(listener: CallListener): void {
    this.counter.listener = listener;
  }

  async close(): Promise<void> {
    this.closed = true;
    await promised<unknown>((done) => this.pool.close((error) => done(error, undefined)));
  }

  /** Runs `work` in one unit of work on one connection (autocommit off), committing at the end. */
  private inTransaction(work: (run: (sql: string, params?: unknown[]) => Promise<unknown>) => Promise<void>): Promise<void> {
    return this.withConnection(false, async (connection) => {
      await promised<unknown>((done) => connection.beginTransaction((error) => done(error, undefined)));
      try {
        await work((sql, params = []) => promised<unknown>((done) => connection.query(sql, params, done)));
        await promised<unknown>((done) => connection.commitTransaction((error) => done(error, undefined)));
      } catch (error) {
        await promised<unknown>((done) => connection.rollbackTransaction((e) => done(e, undefined))).catch(() => undefined);
        throw error;
      }
    });
  }

  private async withConnection<T>(retryable: boolean, work: (connection: Db2Connection) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      const connection = await this.acquire();
      let stale = false;
      try {
        return await work(connection);
      } catch (error) {
        stale = isStale(error);
        if (!(stale && retryable && attempt === 1)) throw translate(error);
      } finally {
        this.release(connection, stale);
      }
    }
  }

  /** A pool slot within acquireTimeoutMs, or 503: never an unbounded wait. */
  private async acquire(): Promise<Db2Connection> {
    if (this.closed) throw new HostUnavailableError('the Db2 pool is closed');
    // A waiter is handed the freed slot directly, so a newcomer cannot take it in between.
    if (this.busy >= this.options.poolSize) await this.waitForSlot();
    else this.busy += 1;
    let timedOut = false;
    const opening = promised<Db2Connection>((done) => this.pool.open(this.target.connectionString, done));
    const timer = new Promise<never>((_, reject) => setTimeout(() => {
      timedOut = true;
      reject(new HostUnavailableError(`no Db2 connection within ${this.options.acquireTimeoutMs} ms`));
    }, this.options.acquireTimeoutMs).unref());
    try {
      return await Promise.race([opening, timer]);
    } catch (error) {
      if (timedOut) {
        // The slot stays taken until the late open settles; a late connection goes straight back.
        opening.then((late) => this.release(late, false), () => this.freeSlot());
      } else {
        this.freeSlot();
      }
      throw translate(error);
    }
  }

  private waitForSlot(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.waiting.indexOf(wake);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(new HostUnavailableError(`Db2 pool exhausted: no connection free within ${this.options.acquireTimeoutMs} ms`));
      }, this.options.acquireTimeoutMs);
      timer.unref();
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiting.push(wake);
    });
  }

  private release(connection: Db2Connection, discard: boolean): void {
    const finish = () => this.freeSlot();
    if (discard && connection.realClose) connection.realClose(finish);
    else connection.close(finish);
  }

  private freeSlot(): void {
    const next = this.waiting.shift();
    if (next) next(); // the slot passes to the longest waiter
    else this.busy -= 1;
  }
}

export async function openDb2(url: string, options: HostOptions, binding?: Db2Binding): Promise<Host> {
  const target = parseDb2Url(url);
  return new Db2Host(target, binding ?? await loadIbmDb(), options);
}
