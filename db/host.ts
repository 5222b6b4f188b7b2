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

/** Told about every host round trip: its name, how long it took, and whether it failed. */
export type CallListener = (name: string, seconds: number, failed: boolean) => void;

export interface Host {
  readonly dialect: Dialect;
  /** Human-readable description for logs (never credentials). */
  readonly description: string;
  /** CALL a stored procedure; returns its OUT parameters by name (without the o_ prefix). */
  call(procedure: ProcedureName, args: Record<string, HostValue>): Promise<Row>;
  /** Runs one named, portable statement. */
  query(statement: Statement, params: readonly HostValue[]): Promise<Row[]>;
  /** Runs a script of statements in the dialect's own script syntax (migrations, seeding, tests). */
  runScript(sql: string): Promise<void>;
  /** Versions recorded in the migration ledger (created when missing). */
  appliedMigrations(): Promise<Set<string>>;
  /**
   * Applies one migration and records it in the same transaction. False when
   * it was already recorded (another instance applied it first).
   */
  applyMigration(version: string, sql: string): Promise<boolean>;
  /** Answers when the host can run a statement. */
  ping(): Promise<void>;
  stats(): HostCallStats;
  /** Registers a listener for every round trip (metrics); one per host. */
  onCall(listener: CallListener): void;
  close(): Promise<void>;
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
  constructor(message: string, sqlState?: string, options?: ErrorOptions) {
    super(message, sqlState, options);
    this.name = 'HostConflictError';
  }
}

/** Counts and times host round trips per name; shared by every driver. */
export class CallCounter {
  private readonly counts: Record<string, number> = {};
  private total = 0;
  listener: CallListener | undefined;

  /** Runs one round trip, counted and timed. */
  async time<T>(name: string, roundTrip: () => Promise<T>): Promise<T> {
    this.counts[name] = (this.counts[name] ?? 0) + 1;
    this.total += 1;
    const started = process.hrtime.bigint();
    let failed = true;
    try {
      const result = await roundTrip();
      failed = false;
      return result;
    } finally {
      this.listener?.(name, Number(process.hrtime.bigint() - started) / 1e9, failed);
    }
  }

  snapshot(): HostCallStats {
    return { calls: { ...this.counts }, total: this.total };
  }
}
