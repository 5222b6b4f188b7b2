// The Db2 host through ibm_db: CALL text and parameter binding from the
// catalogue, one statement path for everything (statement.ts), connections
// from a bounded pool (pool.ts) carrying schema, path, lock timeout and client
// information (registers.ts), and the recovery rules: a rerouted connection
// (SQL30108N) or a dead one is retried once when the work is safe to repeat.
import {
  CallCounter, DEFAULT_CONNECT_TIMEOUT_MS, HostError, type CallContext, type CallListener, type Host, type HostCallStats, type HostOptions,
  type HostValue, type HostWarning, type Row,
} from '../host.js';
import { procedures, positionalArgs, type ProcedureName } from '../procedures.js';
import type { Statement } from '../statements.js';
import { diagnosticOf, loadIbmDb, type Db2Binding, type Db2Database, type Db2Diagnostic, type Db2Param } from './binding.js';
import { parseDb2Url, type Db2Target } from './connection.js';
import {
  isDeadConnection, isDuplicateObject, isRerouted, isUndefinedObject, isUniqueViolation, translate,
} from './errors.js';
import { BoundedPool } from './pool.js';
import { ConnectionRegisters } from './registers.js';
import { runStatement, type StatementOutcome } from './statement.js';

/** Db2 types of the OUT parameters as the procedures declare them, by name (the same name means the same type everywhere). */
export const OUT_TYPES: Record<string, { type: string; length?: number; precision?: number; scale?: number }> = {
  status: { type: 'INTEGER' }, retry_after: { type: 'INTEGER' }, sessions: { type: 'INTEGER' },
  audit_rows: { type: 'INTEGER' }, customer_id: { type: 'VARCHAR', length: 12 },
  bank_id: { type: 'VARCHAR', length: 11 }, access_role: { type: 'VARCHAR', length: 8 },
  account_id: { type: 'VARCHAR', length: 20 }, device: { type: 'VARCHAR', length: 64 }, jkt: { type: 'CHAR', length: 43 },
  session_hash: { type: 'CHAR', length: 16 }, created_at: { type: 'TIMESTAMP', length: 32 },
  last_seen_at: { type: 'TIMESTAMP', length: 32 }, idle_expires_at: { type: 'TIMESTAMP', length: 32 },
  absolute_expires_at: { type: 'TIMESTAMP', length: 32 }, transfer_id: { type: 'CHAR', length: 36 },
  from_account: { type: 'VARCHAR', length: 20 }, to_account: { type: 'VARCHAR', length: 20 },
  amount: { type: 'DECIMAL', precision: 15, scale: 2 }, currency: { type: 'CHAR', length: 3 },
  reference: { type: 'VARCHAR', length: 140 }, booked_at: { type: 'TIMESTAMP', length: 32 },
  // The SAMPLE database's EMPLOYEE columns, returned by the employee procedures.
  empno: { type: 'CHAR', length: 6 }, firstnme: { type: 'VARCHAR', length: 12 }, midinit: { type: 'CHAR', length: 1 },
  lastname: { type: 'VARCHAR', length: 15 }, workdept: { type: 'CHAR', length: 3 }, phoneno: { type: 'CHAR', length: 4 },
  // Dates as CHAR(date, ISO): a DATE OUT value's text would follow the server's territory.
  hiredate: { type: 'CHAR', length: 10 }, job: { type: 'CHAR', length: 8 }, edlevel: { type: 'SMALLINT' },
  sex: { type: 'CHAR', length: 1 }, birthdate: { type: 'CHAR', length: 10 }, salary: { type: 'DECIMAL', precision: 9, scale: 2 },
  bonus: { type: 'DECIMAL', precision: 9, scale: 2 }, comm: { type: 'DECIMAL', precision: 9, scale: 2 },
};

/** A statement Db2 completed with SQL_SUCCESS_WITH_INFO: the work is done, and Db2 said this about it. */
export type Db2Warning = HostWarning;

/** Without onWarning, warnings go to console.warn. */
export type Db2HostOptions = HostOptions;

const INT32 = 2 ** 31;

/** SQL_ATTR_LOGIN_TIMEOUT in whole seconds, within what ibm_db passes unchanged (Db2PoolOptions.connectTimeout). */
export const loginTimeoutSeconds = (ms: number) => Math.min(32767, Math.max(1, Math.ceil(ms / 1000)));

/**
 * A CALL that answered no OUT values. ibm_db reads them only when SQLExecute
 * SQL_SUCCEEDED (ODBCStatement::UV_AfterExecute), so a procedure whose last
 * statement found no row (SQLCODE +100, SQL_NO_DATA) gives none: a host
 * fault to report, never NULLs to map.
 */
function withoutOutValues(procedure: string, diagnostic: Db2Diagnostic): HostError {
  return new HostError(`Db2 procedure ${procedure} returned no OUT values: its CALL ended neither in SQL_SUCCESS nor SQL_SUCCESS_WITH_INFO `
    + '(SQL_NO_DATA, SQLCODE +100: its last statement found no row), and ibm_db reads OUT values only then', diagnostic.sqlstate);
}

/** Db2 reads 'YYYY-MM-DD-HH.MM.SS.ffffff'; this schema keeps every TIMESTAMP in UTC. */
export function db2Timestamp(date: Date): string {
  const iso = date.toISOString(); // 2026-11-25T10:00:00.123Z
  return `${iso.slice(0, 10)}-${iso.slice(11, 13)}.${iso.slice(14, 16)}.${iso.slice(17, 19)}.${iso.slice(20, 23)}000`;
}

export function inputParam(value: unknown): Db2Param {
  if (value instanceof Date) return { ParamType: 'INPUT', DataType: 'CHAR', Data: db2Timestamp(value) };
  if (typeof value === 'boolean') return { ParamType: 'INPUT', DataType: 'BIGINT', Data: value ? 1 : 0 };
  if (typeof value === 'number') {
    // ibm_db binds an integer through a 32-bit read (ODBC::GetInt32Param) and mislabels a
    // larger one as a double in a BIGINT buffer: beyond 32 bits, Db2 casts the text instead.
    if (Number.isInteger(value)) {
      return Math.abs(value) < INT32 ? { ParamType: 'INPUT', DataType: 'BIGINT', Data: value } : { ParamType: 'INPUT', DataType: 'CHAR', Data: String(value) };
    }
    return { ParamType: 'INPUT', DataType: 'DOUBLE', Data: value };
  }
  // Text, decimals as text (Db2 casts a string to DECIMAL on assignment), and NULL.
  return { ParamType: 'INPUT', DataType: 'CHAR', Data: typeof value === 'string' ? value : value === null || value === undefined ? null : String(value) };
}

/**
 * How each declared OUT type is bound. ibm_db knows no INTEGER, DECIMAL or
 * TIMESTAMP DataType: integers come back through a BIGINT buffer; DECIMAL
 * through a DOUBLE (exact to 15 digits, every precision declared here, and
 * free of the scale 0 ibm_db would declare for a DECIMAL parameter); CHAR,
 * VARCHAR, DATE and TIMESTAMP as text, a timestamp in Db2's
 * 'YYYY-MM-DD-HH.MM.SS.ffffff'. Length is the buffer: shorter than the value
 * and the CLI truncates it (01004).
 */
export function outputParam(name: string): Db2Param {
  const declared = OUT_TYPES[name] ?? { type: 'VARCHAR', length: 256 };
  if (['INTEGER', 'SMALLINT', 'BIGINT'].includes(declared.type)) return { ParamType: 'OUTPUT', DataType: 'BIGINT', Data: 0 };
  // Data must not be an integer here (ibm_db would bind the buffer as BIGINT), and Length must leave room for a double.
  if (declared.type === 'DECIMAL') return { ParamType: 'OUTPUT', DataType: 'DOUBLE', Data: '', Length: 8 };
  return { ParamType: 'OUTPUT', DataType: 'CHAR', Data: '', Length: declared.length ?? 256 };
}

function hostValue(value: unknown): HostValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value instanceof Date) return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return String(value);
}

const DB2_TIMESTAMP = /^(\d{4}-\d{2}-\d{2})[- ](\d{2})[.:](\d{2})[.:](\d{2})(\.\d+)?$/;

/** Db2 answers a TIMESTAMP as text, 'YYYY-MM-DD-HH.MM.SS.ffffff', UTC by this schema's convention; the host interface answers a Date. */
export function fromDb2Timestamp(text: string): Date {
  const parts = DB2_TIMESTAMP.exec(text);
  if (!parts) throw new HostError(`Db2 answered ${JSON.stringify(text.slice(0, 40))} where a TIMESTAMP was due`);
  return new Date(`${parts[1]}T${parts[2]}:${parts[3]}:${parts[4]}${(parts[5] ?? '').slice(0, 4)}Z`);
}

/**
 * An OUT value as its declared type says: a DECIMAL comes back through a
 * DOUBLE (outputParam), answered as text with its declared scale like every
 * driver's decimals; a TIMESTAMP as a Date.
 */
function outValue(name: string, value: unknown): HostValue {
  const declared = OUT_TYPES[name];
  if (typeof value === 'number' && declared?.scale !== undefined) return value.toFixed(declared.scale);
  if (typeof value === 'string' && declared?.type === 'TIMESTAMP') return fromDb2Timestamp(value);
  return hostValue(value);
}

/**
 * A result row as the mappers above db/ expect it: names in lower case (Db2
 * answers them in upper case), and TIMESTAMP columns, which this schema
 * names *_at (test/host/db2-scripts.test.ts holds it to that), as Dates.
 */
function rowOf(row: Record<string, unknown>): Row {
  const out: Row = {};
  for (const [key, value] of Object.entries(row)) {
    const name = key.toLowerCase();
    out[name] = typeof value === 'string' && name.endsWith('_at') ? fromDb2Timestamp(value) : hostValue(value);
  }
  return out;
}

/**
 * A CLP script (db2 -td@: a statement ends at a line holding only "@") as
 * its statements: comment lines out, and the table-placement marker
 * (deploy.sh --in fills it) out too, since not every Db2 release takes a
 * bracketed comment in a dynamic statement.
 */
export function splitScript(sql: string): string[] {
  return sql.split(/^\s*@\s*$/m)
    .map((statement) => statement.replace(/^\s*--.*$/gm, '').replace(/\s*\/\* @IN \*\//g, '').trim())
    .filter(Boolean);
}

/**
 * The *_sample scripts create the SAMPLE database's own objects (DEPARTMENT,
 * EMPLOYEE, their index): where SAMPLE is installed they exist, and are kept.
 */
const keepsExisting = (version: string, statement: string, error: unknown): boolean =>
  version.endsWith('_sample') && /^CREATE\s/i.test(statement) && isDuplicateObject(error);

/**
 * Rolls back and turns autocommit on again (ODBCConnection::EndTransaction),
 * whatever state the connection is in: after SQL30081N ibm_db has already
 * disconnected it and dropped its native half, and rollbackTransaction throws.
 */
function rollBack(db: Db2Database): Promise<void> {
  return new Promise((resolve) => {
    try {
      db.rollbackTransaction(() => resolve());
    } catch {
      resolve();
    }
  });
}

/** Thrown inside a migration's unit of work to roll it back: the marker was recorded by someone else. */
class MarkerTaken extends Error {}

type Run = (sql: string, params?: unknown[]) => Promise<StatementOutcome>;

export class Db2Host implements Host {
  readonly dialect = 'db2' as const;
  readonly description: string;
  private readonly counter = new CallCounter();
  private readonly pool: BoundedPool;
  private readonly registers: ConnectionRegisters;
  private readonly callText: Record<string, { procedure: string; sql: string }> = {};
  private readonly timeoutSeconds: number;
  private readonly ledger: string;
  private readonly warn: (warning: Db2Warning) => void;

  constructor(target: Db2Target, binding: Db2Binding, options: Db2HostOptions) {
    this.description = target.description;
    this.timeoutSeconds = Math.ceil(options.statementTimeoutMs / 1000);
    this.warn = options.onWarning ?? ((warning) => console.warn(
      `Db2 warning on ${warning.operation}: SQLSTATE ${warning.sqlstate} (SQLCODE ${warning.sqlcode ?? '?'}) ${warning.message}`));
    const pool = new binding.Pool({ maxPoolSize: options.poolSize, connectTimeout: loginTimeoutSeconds(options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS) });
    this.pool = new BoundedPool(pool, target.connectionString, options.poolSize, options.acquireTimeoutMs);
    this.registers = new ConnectionRegisters(
      { schema: target.schema, lockTimeoutSeconds: Math.min(32767, Math.max(0, Math.ceil(options.lockTimeoutMs / 1000))) },
      async (db, sql) => {
        await this.run(db, sql, sql, [], false);
      },
      (operation, diagnostic) => this.report(operation, diagnostic),
    );
    this.ledger = `"${target.schema}".SCHEMA_MIGRATION`;
    for (const [name, signature] of Object.entries(procedures)) {
      const markers = [...signature.in, ...signature.out].map(() => '?').join(', ');
      const qualified = `${target.schema}.${name.toUpperCase()}`;
      this.callText[name] = { procedure: qualified, sql: `CALL ${qualified}(${markers})` };
    }
  }

  async call(procedure: ProcedureName, args: Record<string, HostValue>, context?: CallContext): Promise<Row> {
    const signature = procedures[procedure];
    const inputs = positionalArgs(procedure, args);
    const call = this.callText[procedure] ?? { procedure, sql: '' };
    const retrySafe = 'idempotent' in signature && signature.idempotent === true;
    const outcome = await this.counter.time(procedure, async () => {
      const ran = await this.withConnection(retrySafe, context, (db) =>
        // Built per attempt: lib/odbc.js rewrites the parameter objects it is given.
        this.run(db, procedure, call.sql, [...inputs.map(inputParam), ...signature.out.map(outputParam)], false));
      if (signature.out.length > 0 && !ran.out) throw withoutOutValues(call.procedure, ran.diagnostic);
      return ran;
    });
    const out = outcome.out ?? [];
    return Object.fromEntries(signature.out.map((name, i) => [name, outValue(name, out[i])]));
  }

  async query(statement: Statement, params: readonly HostValue[], context?: CallContext): Promise<Row[]> {
    // Every named statement is a read or an idempotent write: safe to repeat once.
    // The rows themselves are what is timed, so the call's listeners see how many came back.
    const rows = await this.counter.time(statement.name, async () => (await this.withConnection(true, context, (db) =>
      this.run(db, statement.name, statement.sql, params.map(inputParam), true))).rows);
    return rows.map(rowOf);
  }

  async ping(): Promise<void> {
    await this.withConnection(true, undefined, (db) => this.run(db, 'ping', 'SELECT 1 AS OK FROM SYSIBM.SYSDUMMY1', [], true));
  }

  async runScript(sql: string): Promise<void> {
    // A script may hold anything: never repeated.
    await this.withConnection(false, undefined, (db) => this.inTransaction(db, 'script', async (run) => {
      for (const statement of splitScript(sql)) await run(statement);
    }));
  }

  async appliedMigrations(): Promise<Set<string>> {
    const rows = await this.withConnection(true, undefined, async (db) => {
      try {
        return (await this.run(db, 'migrations.read', `SELECT VERSION FROM ${this.ledger}`, [], true)).rows;
      } catch (error) {
        if (isUndefinedObject(error)) return []; // SQL0204N: no ledger yet, so nothing applied
        throw error;
      }
    });
    return new Set(rows.map((row) => String(rowOf(row).version)));
  }

  async prepareMigrations(): Promise<void> {
    await this.withConnection(true, undefined, async (db) => {
      try {
        await this.run(db, 'migrations.prepare', `CREATE TABLE ${this.ledger} (VERSION VARCHAR(100) NOT NULL PRIMARY KEY, `
          + 'APPLIED_AT TIMESTAMP NOT NULL DEFAULT CURRENT TIMESTAMP)', [], false);
      } catch (error) {
        if (!isDuplicateObject(error)) throw error; // SQL0601N: it exists already
      }
    });
  }

  async applyMigration(version: string, sql: string): Promise<boolean> {
    try {
      // Safe to repeat: a rerouted or lost unit of work was rolled back, and one that committed finds its marker taken.
      await this.withConnection(true, undefined, (db) => this.inTransaction(db, `migration ${version}`, async (run) => {
        // The marker first: a concurrent instance waits on its key, then gets 23505 and skips the version.
        try {
          await run(`INSERT INTO ${this.ledger} (VERSION) VALUES (?)`, [version]);
        } catch (error) {
          if (isUniqueViolation(error)) throw new MarkerTaken(version);
          throw error;
        }
        for (const statement of splitScript(sql)) {
          try {
            await run(statement);
          } catch (error) {
            if (!keepsExisting(version, statement, error)) throw error;
          }
        }
      }));
      return true;
    } catch (error) {
      if (error instanceof MarkerTaken) return false;
      throw error;
    }
  }

  stats(): HostCallStats {
    return { ...this.counter.snapshot(), pool: this.pool.counts() };
  }

  onCall(listener: CallListener): () => void {
    return this.counter.listen(listener);
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  /** One statement, its warning told once. */
  private async run(db: Db2Database, operation: string, sql: string, params: Db2Param[], fetch: boolean): Promise<StatementOutcome> {
    const outcome = await runStatement(db, sql, params, { timeoutSeconds: this.timeoutSeconds, fetch });
    if (outcome.warning) this.report(operation, outcome.warning);
    return outcome;
  }

  private report(operation: string, diagnostic: Db2Diagnostic): void {
    this.warn({ operation, sqlstate: diagnostic.sqlstate ?? '', ...(diagnostic.sqlcode === undefined ? {} : { sqlcode: diagnostic.sqlcode }), message: diagnostic.message });
  }

  /** Runs `work` in one unit of work on one connection (autocommit off), committing at the end. */
  private async inTransaction<T>(db: Db2Database, operation: string, work: (run: Run) => Promise<T>): Promise<T> {
    await new Promise<void>((resolve, reject) => db.beginTransaction((error) => (error ? reject(error) : resolve())));
    try {
      const result = await work((sql, params = []) => this.run(db, operation, sql, params.map(inputParam), false));
      await new Promise<void>((resolve, reject) => db.commitTransaction((error) => (error ? reject(error) : resolve())));
      return result;
    } catch (error) {
      await rollBack(db);
      throw error;
    }
  }

  /**
   * Runs `work` on a pooled connection, prepared for this call. A rerouted
   * connection is retried once in place, a dead one once on another
   * connection, both only when `retrySafe`; anything else is translated.
   */
  private async withConnection<T>(retrySafe: boolean, context: CallContext | undefined, work: (db: Db2Database) => Promise<T>): Promise<T> {
    let db: Db2Database | null = await this.pool.acquire();
    let retried = false;
    try {
      for (;;) {
        try {
          await this.registers.prepare(db, context);
          return await work(db);
        } catch (error) {
          if (error instanceof MarkerTaken) throw error;
          const diagnostic = diagnosticOf(error);
          const again = retrySafe && !retried;
          retried = true;
          if (isRerouted(diagnostic)) {
            this.registers.forget(db);
            if (again) continue;
          } else if (isDeadConnection(diagnostic)) {
            const dead: Db2Database = db;
            db = null;
            await this.pool.discard(dead);
            if (again) {
              db = await this.pool.acquire();
              continue;
            }
          }
          throw translate(error);
        }
      }
    } finally {
      if (db) await this.pool.release(db);
    }
  }
}

/** `load` stands in for ibm_db in tests. */
export async function openDb2(url: string, options: Db2HostOptions, load: () => Promise<Db2Binding> = loadIbmDb): Promise<Host> {
  const target = parseDb2Url(url);
  return new Db2Host(target, await load(), options);
}
