// The PostgreSQL server driver: `pg` with a bounded pool, named (prepared)
// statements, and fail-fast errors when the server is away.
import pg from 'pg';
import type { Row } from '../host.js';
import { DATE_OID, hostErrorOf, PgDialectHost, type PgExecutor } from './dialect.js';

export interface PgServerOptions {
  poolSize: number;
  /** How long a caller waits for a connection before the request fails with 503. */
  acquireTimeoutMs: number;
  statementTimeoutMs: number;
  lockTimeoutMs: number;
  onIdleError?: (error: Error) => void;
}

/** No SQLSTATE means the failure was below SQL: refused, reset, timed out, pool exhausted. */
const translate = (error: unknown): Error => hostErrorOf(error, { stateless: 'unavailable' });

/** DATE columns stay the host's 'YYYY-MM-DD' text: no time zone can shift them. */
const dateAsText = (value: string): string => value;
// pg asks for a parser per column of every result: one function, not a new one each time.
// The bench's floor reads through the same (bench/baseline.ts).
export const textDateTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === DATE_OID ? dateAsText : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export function openPgServer(url: string, options: PgServerOptions): PgDialectHost {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize,
    connectionTimeoutMillis: options.acquireTimeoutMs,
    idleTimeoutMillis: 30_000,
    // Enforced by the server, not by a client-side timer per query.
    options: `-c statement_timeout=${options.statementTimeoutMs} -c lock_timeout=${options.lockTimeoutMs}`,
    types: textDateTypes,
  });
  // An idle client losing its server must not crash the process; the next
  // query gets a fresh connection.
  pool.on('error', (error) => options.onIdleError?.(error));

  const executor: PgExecutor = {
    async run(name, text, params) {
      try {
        return (await pool.query<Row>({ name, text, values: params as unknown[] })).rows;
      } catch (error) {
        throw translate(error);
      }
    },
    async runScript(sql) {
      try {
        await pool.query(sql);
      } catch (error) {
        throw translate(error);
      }
    },
    close: () => pool.end(),
    pool: () => ({
      inUse: pool.totalCount - pool.idleCount, open: pool.totalCount, waiting: pool.waitingCount, max: options.poolSize,
    }),
  };
  const { hostname, port, pathname } = new URL(url);
  return new PgDialectHost(`PostgreSQL ${hostname}:${port || 5432}${pathname}`, executor);
}
