// The host interface: every driver (embedded PGlite, PostgreSQL server, Db2)
// speaks it, and nothing above db/ sees a driver, a dialect or a column name.
import type { ProcedureName } from './procedures.js';
import type { Statement } from './statements.js';

export type HostValue = string | number | boolean | Date | null;
export type Row = Record<string, HostValue>;
export type Dialect = 'postgres' | 'db2';

export interface HostCallStats {
  /** Host round trips by procedure or statement name. */
  calls: Record<string, number>;
  total: number;
  /** Connections: in use and open, where the driver pools them. */
  pool?: { inUse: number; open: number; waiting: number; max: number };
}

/**
 * Who a host call is made for. Drivers may show it to the host's operators
 * (Db2 client information) and tracing may tag the call with it; it never
 * changes what the call does.
 */
export interface CallContext {
  requestId?: string;
  /** The customer the session belongs to (Db2: client user). */
  customerId?: string;
  clientAddress?: string;
  /** W3C trace id of the request (32 hex digits), when tracing is on. */
  traceId?: string | null;
}

/** Who asks for a host call made for a client's request: the audit row a procedure writes names it. */
export interface RequestContext extends CallContext {
  requestId: string;
  clientAddress: string;
  /** W3C trace id of the request when tracing is on, else null. */
  traceId: string | null;
}

/** Work the host completed with a warning (Db2: SQL_SUCCESS_WITH_INFO): done, but worth a log line. */
export interface HostWarning {
  /** Procedure or statement name. */
  operation: string;
  sqlstate: string;
  sqlcode?: number;
  message: string;
}

/** How a round trip ended, for metrics and trace spans. */
export interface CallOutcome {
  failed: boolean;
  /** Rows a statement answered (not for procedure calls). */
  rows?: number;
  /** The SQLSTATE of a failure, when the host gave one. */
  sqlState?: string;
}

/**
 * Told about every host round trip as it ends: its name, how long it took, and
 * how it ended. Called in the caller's own async context, so a listener can
 * attach what it records to the caller's current trace span.
 */
export type CallListener = (name: string, seconds: number, outcome: CallOutcome) => void;

export interface Host {
  readonly dialect: Dialect;
  /** Human-readable description for logs (never credentials). */
  readonly description: string;
  /** CALL a stored procedure; returns its OUT parameters by name (without the o_ prefix). */
  call(procedure: ProcedureName, args: Record<string, HostValue>, context?: CallContext): Promise<Row>;
  /** Runs one named, portable statement. */
  query(statement: Statement, params: readonly HostValue[], context?: CallContext): Promise<Row[]>;
  /** Runs a script of statements in the dialect's own script syntax (migrations, seeding, tests). */
  runScript(sql: string): Promise<void>;
  /** Versions recorded in the migration ledger; empty when there is no ledger yet. Reads only. */
  appliedMigrations(): Promise<Set<string>>;
  /** Creates the migration ledger when it is missing (DDL: only `db:migrate` and embedded start-up). */
  prepareMigrations(): Promise<void>;
  /**
   * Applies one migration and records it in the same transaction. False when
   * the marker itself was already recorded (another instance applied it
   * first); any other failure, a conflict inside the script included, throws.
   */
  applyMigration(version: string, sql: string): Promise<boolean>;
  /** Answers when the host can run a statement. */
  ping(): Promise<void>;
  stats(): HostCallStats;
  /** Registers a listener for every round trip (metrics of each app on this host); returns how to remove it. */
  onCall(listener: CallListener): () => void;
  close(): Promise<void>;
}

export interface HostOptions {
  poolSize: number;
  /** How long a call waits for a pooled connection, a new one's connect included, before it fails (503). */
  acquireTimeoutMs: number;
  /**
   * How long the driver's login may take (Db2: SQL_ATTR_LOGIN_TIMEOUT, whole
   * seconds, default 10 s): TLS and authentication through Db2 Connect can
   * outlast the acquire timeout. A connect slower than acquireTimeoutMs fails
   * that call, but still completes into the pool for the next one.
   */
  connectTimeoutMs?: number;
  /**
   * Db2: SQL_ATTR_QUERY_TIMEOUT, rounded up to whole seconds; the CLI checks
   * once per QueryTimeoutInterval (the driver sets 1 s), so a statement of
   * timeout N s is cancelled between N and N + 1 s after it started.
   */
  statementTimeoutMs: number;
  /** How long a statement waits for a row lock before it fails (Db2 LockTimeout; PostgreSQL lock_timeout). */
  lockTimeoutMs: number;
  onIdleError?: (error: Error) => void;
  /** Told once about every statement the host completed with a warning (Db2). */
  onWarning?: (warning: HostWarning) => void;
}

/** A new connection's login may take this long (Db2 through Db2 Connect with TLS can take seconds). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export const DEFAULT_HOST_OPTIONS: HostOptions = {
  poolSize: 10, acquireTimeoutMs: 1000, connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS, statementTimeoutMs: 10_000, lockTimeoutMs: 5000,
};

/** Which host a DB_URL names. */
export type HostTarget =
  | { kind: 'pglite'; /** The data folder; null: in memory. */ folder: string | null }
  | { kind: 'postgres'; url: string }
  | { kind: 'db2'; url: string };

/** The one reading of DB_URL's scheme: `pglite:<dir>` or `pglite:memory`, `postgres://…`, `db2://…`; null for anything else. */
export function hostTarget(url: string): HostTarget | null {
  if (url.startsWith('pglite:')) {
    const folder = url.slice('pglite:'.length);
    return { kind: 'pglite', folder: folder === '' || folder === 'memory' ? null : folder };
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return { kind: 'postgres', url };
  if (url.startsWith('db2://')) return { kind: 'db2', url };
  return null;
}

/** A failure talking to the host. Messages are for logs, never for clients. */
export class HostError extends Error {
  constructor(message: string, readonly sqlState?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'HostError';
  }
}

/** The host cannot be reached, or no connection is free in time. */
export class HostUnavailableError extends HostError {
  constructor(message: string, sqlState?: string, options?: ErrorOptions) {
    super(message, sqlState, options);
    this.name = 'HostUnavailableError';
  }
}

/** A unique key already exists. */
export class HostConflictError extends HostError {
  constructor(
    message: string,
    sqlState?: string,
    options?: ErrorOptions,
    /** The violated constraint's name, where the driver reports it. */
    readonly constraint?: string,
  ) {
    super(message, sqlState, options);
    this.name = 'HostConflictError';
  }
}

/** Counts and times host round trips per name; shared by every driver. */
export class CallCounter {
  private readonly counts: Record<string, number> = {};
  private total = 0;
  private readonly listeners = new Set<CallListener>();

  /** Adds a listener; returns how to remove it. */
  listen(listener: CallListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Runs one round trip, counted and timed. */
  async time<T>(name: string, roundTrip: () => Promise<T>): Promise<T> {
    this.counts[name] = (this.counts[name] ?? 0) + 1;
    this.total += 1;
    if (!this.listeners.size) return roundTrip(); // nobody listens: not even a clock read
    const started = process.hrtime.bigint();
    let outcome: CallOutcome = { failed: true };
    try {
      const result = await roundTrip();
      outcome = Array.isArray(result) ? { failed: false, rows: result.length } : { failed: false };
      return result;
    } catch (error) {
      if (error instanceof HostError && error.sqlState) outcome = { failed: true, sqlState: error.sqlState };
      throw error;
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      for (const listener of this.listeners) listener(name, seconds, outcome);
    }
  }

  snapshot(): HostCallStats {
    return { calls: { ...this.counts }, total: this.total };
  }
}
