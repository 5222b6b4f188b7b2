// The catalogue of stored procedures: names and parameter lists, the single
// source each driver builds its CALL text from. Db2 and PL/pgSQL definitions
// are checked against it by test/host/catalogue.test.ts.

export interface ProcedureSignature {
  readonly in: readonly string[];
  readonly out: readonly string[];
  /** Running it twice has the effect of running it once: a driver may retry it after a lost connection. */
  readonly idempotent?: boolean;
}

const AUDIT = ['request_id', 'client_address', 'trace_id'] as const;
/** EMPLOYEE's columns after empno, in the procedures' parameter order (the seed and the reads use it too). */
export const EMPLOYEE_COLUMNS = [
  'firstnme', 'midinit', 'lastname', 'workdept', 'phoneno', 'hiredate', 'job',
  'edlevel', 'sex', 'birthdate', 'salary', 'bonus', 'comm',
] as const;
const ACTOR = ['customer_id', 'session_hash', ...AUDIT, 'device', 'now'] as const;

export const procedures = {
  login: {
    in: ['session_id', 'session_hash', 'account', 'pin_digest', 'device', 'jkt', ...AUDIT, 'now',
      'idle_seconds', 'absolute_seconds', 'max_failures', 'lock_seconds'],
    out: ['status', 'customer_id', 'bank_id', 'access_role', 'retry_after'],
  },
  session_resolve: {
    in: ['session_id', 'now', 'idle_seconds', 'touch_seconds', ...AUDIT],
    out: ['status', 'customer_id', 'account_id', 'bank_id', 'access_role', 'device', 'jkt', 'session_hash',
      'created_at', 'last_seen_at', 'idle_expires_at', 'absolute_expires_at'],
    idempotent: true,
  },
  logout: { in: ['session_id', ...AUDIT, 'now'], out: ['status'], idempotent: true },
  logout_all: { in: ['session_id', ...AUDIT, 'now'], out: ['status', 'sessions'], idempotent: true },
  session_end: { in: ['session_id', 'ref', ...AUDIT, 'now'], out: ['status'], idempotent: true },
  purge_expired: { in: ['now', 'audit_before', 'guard_before', 'known_device_before'], out: ['sessions', 'audit_rows'], idempotent: true },
  transfer: {
    in: ['customer_id', 'login_account', 'session_bank_id', 'bank_id', 'idempotency_key', 'request_digest',
      'transfer_id', 'from_account', 'to_account', 'amount', 'reference', 'signed_currency',
      'auth_method', 'auth_digest', 'pin_digest', 'max_failures', 'lock_seconds', 'payee_max_failures',
      'daily_amount_limit', 'daily_count_limit', 'now', ...AUDIT, 'device', 'session_hash', 'jkt'],
    out: ['status', 'transfer_id', 'from_account', 'to_account', 'amount', 'currency',
      'reference', 'booked_at', 'retry_after'],
    // The idempotency key makes a retry a replay. (A wrong step-up PIN whose
    // reply was lost would count twice toward the lockout: the safe side.)
    idempotent: true,
  },
  employee_create: { in: ['empno', ...EMPLOYEE_COLUMNS, ...ACTOR], out: ['status', 'empno', ...EMPLOYEE_COLUMNS] },
  employee_update: { in: ['empno', 'fields', ...EMPLOYEE_COLUMNS, ...ACTOR], out: ['status', 'empno', ...EMPLOYEE_COLUMNS] },
  employee_delete: { in: ['empno', ...ACTOR], out: ['status'] },
} as const satisfies Record<string, ProcedureSignature>;

export type ProcedureName = keyof typeof procedures;

/** Orders named arguments by the catalogue; a missing argument is a programming error. */
export function positionalArgs(
  name: ProcedureName,
  args: Record<string, unknown>,
): unknown[] {
  return procedures[name].in.map((param) => {
    if (!(param in args)) throw new Error(`procedure ${name}: argument ${param} missing`);
    return args[param];
  });
}
