// What PGlite and the PostgreSQL server have in common: CALL text for the
// procedure catalogue, `?` rewriting, OUT-parameter naming and call counting.
// Each driver supplies only how to run one statement and how to classify errors.
import {
  CallCounter, HostConflictError, HostError, HostUnavailableError, type CallListener, type Host, type HostCallStats, type HostValue, type Row,
} from '../host.js';
import { procedures, positionalArgs, type ProcedureName } from '../procedures.js';
import { statements, toDollarPlaceholders, type Statement } from '../statements.js';

export interface PgExecutor {
  /** Runs one parameterised statement; `name` lets the server prepare it once per connection. */
  run(name: string, text: string, params: readonly unknown[]): Promise<Row[]>;
  runScript(sql: string): Promise<void>;
  close(): Promise<void>;
  /** Pool usage, where there is a pool. */
  pool?(): NonNullable<HostCallStats['pool']>;
}

/** `CALL login($1, …, $12, NULL, …)`: OUT parameters are passed as NULL and come back as one row. */
function callText(name: ProcedureName): string {
  const { in: inParams, out } = procedures[name];
  const args = [...inParams.map((_, i) => `$${i + 1}`), ...out.map(() => 'NULL')];
  return `CALL ${name}(${args.join(', ')})`;
}

const CALL_TEXT = Object.fromEntries(
  (Object.keys(procedures) as ProcedureName[]).map((name) => [name, callText(name)]),
) as Record<ProcedureName, string>;

const STATEMENT_TEXT = new Map<string, string>(
  Object.values(statements).map((s) => [s.name, toDollarPlaceholders(s.sql)]),
);

const MIGRATION_LEDGER = `CREATE TABLE IF NOT EXISTS schema_migration (
  version    VARCHAR(100) NOT NULL PRIMARY KEY,
  applied_at TIMESTAMPTZ  NOT NULL DEFAULT CURRENT_TIMESTAMP
)`;

/** The ledger's primary key: a conflict on it, and only on it, means another instance applied the version. */
const MIGRATION_MARKER = 'schema_migration_pkey';
const UNDEFINED_TABLE = '42P01';

/** OUT parameters are declared `o_status`, …; callers see `status`, …. */
function stripOutPrefix(row: Row): Row {
  const out: Row = {};
  for (const [key, value] of Object.entries(row)) out[key.startsWith('o_') ? key.slice(2) : key] = value;
  return out;
}

export class PgDialectHost implements Host {
  readonly dialect = 'postgres' as const;
  private readonly counter = new CallCounter();

  constructor(readonly description: string, private readonly executor: PgExecutor) {}

  async call(procedure: ProcedureName, args: Record<string, HostValue>): Promise<Row> {
    const rows = await this.counter.time(procedure, () =>
      this.executor.run(`call_${procedure}`, CALL_TEXT[procedure], positionalArgs(procedure, args)));
    return stripOutPrefix(rows[0] ?? {});
  }

  query(statement: Statement, params: readonly HostValue[]): Promise<Row[]> {
    const text = STATEMENT_TEXT.get(statement.name) ?? toDollarPlaceholders(statement.sql);
    return this.counter.time(statement.name, () => this.executor.run(statement.name, text, params));
  }

  runScript(sql: string): Promise<void> {
    return this.executor.runScript(sql);
  }

  async appliedMigrations(): Promise<Set<string>> {
    try {
      const rows = await this.executor.run('migration.list', 'SELECT version FROM schema_migration', []);
      return new Set(rows.map((row) => String(row.version)));
    } catch (error) {
      if (error instanceof HostError && error.sqlState === UNDEFINED_TABLE) return new Set();
      throw error;
    }
  }

  async prepareMigrations(): Promise<void> {
    try {
      await this.executor.runScript(MIGRATION_LEDGER);
    } catch (error) {
      // Instances starting together race on CREATE TABLE IF NOT EXISTS; the loser sees the winner's table.
      if (!(error instanceof HostConflictError) && !(error instanceof HostError && error.sqlState === '42P07')) throw error;
    }
  }

  async applyMigration(version: string, sql: string): Promise<boolean> {
    // One simple-protocol script is one implicit transaction: the marker and
    // the DDL commit together. A concurrent instance blocks on the marker's
    // key until we commit, then fails with a unique violation on it and skips.
    try {
      await this.executor.runScript(`INSERT INTO schema_migration (version) VALUES ('${version.replace(/'/g, "''")}');\n${sql}`);
      return true;
    } catch (error) {
      if (error instanceof HostConflictError && error.constraint === MIGRATION_MARKER) return false;
      throw error;
    }
  }

  async ping(): Promise<void> {
    await this.executor.run('ping', 'SELECT 1 AS ok', []);
  }

  stats() {
    return { ...this.counter.snapshot(), ...(this.executor.pool ? { pool: this.executor.pool() } : {}) };
  }

  onCall(listener: CallListener): () => void {
    return this.counter.listen(listener);
  }

  close(): Promise<void> {
    return this.executor.close();
  }
}

/** PostgreSQL SQLSTATE classes that mean "the host is not there", not "the request is wrong". */
function isUnavailableState(code: string | undefined): boolean {
  if (!code) return false;
  return code.startsWith('08') // connection exception
    || code.startsWith('53') // insufficient resources
    || code.startsWith('57P') // operator intervention: shutdown, crash, cannot connect now
    || code === '57014' // statement timeout (DB_STATEMENT_TIMEOUT_SECONDS)
    || code === '55P03' // lock timeout (DB_LOCK_TIMEOUT_SECONDS)
    || code === '40001' || code === '40P01'; // serialization failure, deadlock: safe to retry later
}

const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * A PostgreSQL failure as the host interface's: a unique violation is a
 * conflict (naming its constraint), the states above an outage, anything else
 * a plain HostError. `stateless` says what a failure without a SQLSTATE is:
 * on the network, an outage; inside this process (PGlite), an error.
 */
export function hostErrorOf(error: unknown, { stateless }: { stateless: 'unavailable' | 'error' }): HostError {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  const options = { cause: error };
  if (!code || !SQLSTATE.test(code)) return stateless === 'unavailable' ? new HostUnavailableError(message, code, options) : new HostError(message, code, options);
  if (code === '23505') return new HostConflictError(message, code, options, (error as { constraint?: string }).constraint);
  if (isUnavailableState(code)) return new HostUnavailableError(message, code, options);
  return new HostError(message, code, options);
}

/** Dates come back as `YYYY-MM-DD` strings, not as local-midnight JS Dates. */
export const DATE_OID = 1082;
