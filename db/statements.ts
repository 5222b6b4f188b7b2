// Named, portable statements: `?` placeholders, FETCH FIRST, no vendor
// functions, so the same text runs on PostgreSQL, PGlite, Db2 for LUW and
// Db2 for z/OS (each form is listed with its IBM references in docs/db2.md).
// Writes that need an audit row are stored procedures instead (procedures.ts).
import { EMPLOYEE_COLUMNS } from './procedures.js';

export interface Statement {
  readonly name: string;
  readonly sql: string;
}

const statement = (name: string, sql: string): Statement => ({ name, sql: sql.trim() });

/** Sessions one round trip reads at most (statements.sessionReadBatch). */
export const SESSION_READ_BATCH = 8;

const EMPLOYEE_SELECT = ['empno', ...EMPLOYEE_COLUMNS].join(', ');

/** What a session read answers (db/host-sessions.ts toHostSession reads each). */
const SESSION_SELECT = 'session_hash, customer_id, account_id, bank_id, access_role, device, jkt, created_at, '
  + 'last_seen_at, idle_expires_at, absolute_expires_at';

export const statements = {

  employeeGet: statement('employee.get', `
    SELECT ${EMPLOYEE_SELECT} FROM employee WHERE empno = ?`),

  // One round trip for the page and its total: the count rides along on every
  // row, and on a single row of NULLs when the page is empty. The page is the
  // matches numbered first < match_no <= last, not OFFSET: Db2 for z/OS allows
  // OFFSET only in the outermost fullselect, and this one needs the count too.
  employeeList: statement('employee.list', `
    WITH matches AS (
      SELECT ${EMPLOYEE_SELECT}, ROW_NUMBER() OVER (ORDER BY empno) AS match_no FROM employee
       WHERE (CAST(? AS VARCHAR(3)) IS NULL OR workdept = CAST(? AS VARCHAR(3)))
         AND (CAST(? AS VARCHAR(32)) IS NULL OR UPPER(lastname) LIKE CAST(? AS VARCHAR(32)) ESCAPE '!')
    )
    SELECT counted.total, page.*
      FROM (SELECT COUNT(*) AS total FROM matches) counted
      LEFT JOIN (SELECT * FROM matches WHERE match_no > CAST(? AS INTEGER) AND match_no <= CAST(? AS INTEGER)) page ON 1 = 1
     ORDER BY page.match_no`),

  accountsOfCustomer: statement('account.list', `
    SELECT account_id, bank_id, kind, currency, balance
      FROM account WHERE customer_id = ? ORDER BY account_id`),

  // Keyset pagination: newest first by entry id; ownership is part of the key,
  // so another customer's account yields no row at all.
  ledgerPage: statement('ledger.page', `
    SELECT a.account_id, e.entry_id, e.transfer_id, e.booked_at, e.amount, e.balance_after,
           e.counterparty, e.reference
      FROM account a
      LEFT JOIN ledger_entry e
        ON e.account_id = a.account_id AND e.entry_id < CAST(? AS BIGINT)
     WHERE a.account_id = ? AND a.customer_id = ?
     ORDER BY e.entry_id DESC
     FETCH FIRST ? ROWS ONLY`),

  // The read path of session resolution between idle-clock writes (auth/session-resolver.ts):
  // a primary-key read, the cheapest thing a host can answer.
  sessionRead: statement('session.read', `
    SELECT ${SESSION_SELECT} FROM host_session WHERE session_id = ?`),

  // The same read for several sessions in one round trip: the sessions one
  // turn's requests name (auth/session-resolver.ts). SESSION_READ_BATCH
  // markers; a shorter batch repeats its last id, which the host reads once.
  sessionReadBatch: statement('session.read.batch', `
    SELECT session_id, ${SESSION_SELECT}
      FROM host_session WHERE session_id IN (${Array.from({ length: SESSION_READ_BATCH }, () => '?').join(', ')})`),

  // The device list: the customer's sessions not yet expired (the purge may not have run).
  sessionsOfCustomer: statement('session.list', `
    SELECT session_hash, device, jkt, created_at, last_seen_at, idle_expires_at, absolute_expires_at
      FROM host_session
     WHERE customer_id = ? AND idle_expires_at > ? AND absolute_expires_at > ?
     ORDER BY created_at, session_hash`),

  scratchpadGet: statement('scratchpad.get', `
    SELECT scratch_pad FROM host_session WHERE session_id = ?`),
  scratchpadPut: statement('scratchpad.put', `
    UPDATE host_session SET scratch_pad = ? WHERE session_id = ?`),

  auditPage: statement('audit.page', `
    SELECT audit_id, logged_at, event, outcome, customer_id, account_id, request_id, client_address,
           trace_id, device, detail
      FROM audit_log
     WHERE audit_id < CAST(? AS BIGINT)
       AND (CAST(? AS VARCHAR(12)) IS NULL OR customer_id = CAST(? AS VARCHAR(12)))
       AND (CAST(? AS VARCHAR(20)) IS NULL OR event = CAST(? AS VARCHAR(20)))
       AND logged_at >= ? AND logged_at < ?
     ORDER BY audit_id DESC
     FETCH FIRST ? ROWS ONLY`),
} as const;

/** Rewrites `?` placeholders to PostgreSQL's `$1, $2, …`. Our statements hold no `?` in literals. */
export function toDollarPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
