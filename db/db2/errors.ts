// What a Db2 answer means for the caller: the connection is dead, it was
// rerouted to another member, or the statement failed; and which error every
// driver throws for it. ibm_db 4.x puts the SQLSTATE in `sqlstate`.
import { HostConflictError, HostError, HostUnavailableError } from '../host.js';
import { diagnosticOf, type Db2Diagnostic } from './binding.js';

/** Communication failures (SQL30081N, SQL30080N), SQL1224N, SQL0900N, SQL1776N (HADR standby): the connection is gone. */
const DEAD_STATES = new Set(['08001', '08003', '08004', '08007', '08S01', '40003']);
const DEAD_CODES = new Set([-30080, -30081, -1224, -900, -1776]);

/** Answers that mean the host cannot serve the request now (→ 503), beyond classes 08 and 57. */
const UNAVAILABLE_STATES = new Set(['40001', '40003', 'HYT00', 'HYT01']);
/**
 * SQL0911N/SQL0913N deadlock or lock timeout, SQL0952N cancelled (query
 * timeout), SQL1598N no Db2 Connect licence. After SQL0911N the server rolled
 * the unit of work back, at execute or part-way through a fetch: nothing of it
 * stands, so the client may repeat the request. The driver does not: a lock
 * timeout has already waited CURRENT LOCK TIMEOUT, and would wait again.
 */
const UNAVAILABLE_CODES = new Set([-911, -913, -952, -1598, ...DEAD_CODES, -30108]);

export function isDeadConnection(diagnostic: Db2Diagnostic): boolean {
  return (diagnostic.sqlstate !== undefined && DEAD_STATES.has(diagnostic.sqlstate))
    || (diagnostic.sqlcode !== undefined && DEAD_CODES.has(diagnostic.sqlcode));
}

/**
 * SQL30108N: automatic client reroute moved the connection to another member
 * (HADR takeover, pureScale member loss). The connection works, the unit of
 * work was rolled back, and the statement may be run again on it.
 */
export function isRerouted(diagnostic: Db2Diagnostic): boolean {
  return diagnostic.sqlcode === -30108 || diagnostic.sqlstate === '08506';
}

export function isWarning(diagnostic: Db2Diagnostic): boolean {
  return diagnostic.sqlstate?.startsWith('01') === true;
}

export function isUniqueViolation(error: unknown): boolean {
  const { sqlstate, sqlcode } = diagnosticOf(error);
  return sqlstate === '23505' || sqlcode === -803;
}

/** SQL0204N: the object named does not exist. */
export function isUndefinedObject(error: unknown): boolean {
  const { sqlstate, sqlcode } = diagnosticOf(error);
  return sqlstate === '42704' || sqlcode === -204;
}

/** SQL0601N: the object to create exists already. */
export function isDuplicateObject(error: unknown): boolean {
  const { sqlstate, sqlcode } = diagnosticOf(error);
  return sqlstate === '42710' || sqlcode === -601;
}

export function translate(error: unknown): Error {
  if (error instanceof HostError) return error;
  const diagnostic = diagnosticOf(error);
  const { sqlstate, sqlcode, message } = diagnostic;
  if (isUniqueViolation(error)) return new HostConflictError(message, sqlstate, { cause: error });
  if (sqlstate?.startsWith('08') || sqlstate?.startsWith('57')
    || (sqlstate !== undefined && UNAVAILABLE_STATES.has(sqlstate))
    || (sqlcode !== undefined && UNAVAILABLE_CODES.has(sqlcode))) {
    return new HostUnavailableError(message, sqlstate, { cause: error });
  }
  return new HostError(message, sqlstate, { cause: error });
}
