// The catalogue of stored procedures: names and parameter lists, the single
// source each driver builds its CALL text from. Db2 and PL/pgSQL definitions
// are checked against it by test/host/catalogue.test.ts.

export interface ProcedureSignature {
  readonly in: readonly string[];
  readonly out: readonly string[];
  /** Running it twice has the effect of running it once: a driver may retry it after a lost connection. */
  readonly idempotent?: boolean;
}

const AUDIT = ['request_id', 'client_address'] as const;
const EMPLOYEE_COLUMNS = [
  'firstnme', 'midinit', 'lastname', 'workdept', 'phoneno', 'hiredate', 'job',
  'edlevel', 'sex', 'birthdate', 'salary', 'bonus', 'comm',
] as const;
const ACTOR = ['customer_id', 'session_hash', ...AUDIT, 'device', 'now'] as const;

export const procedures = {
  login: {
    in: ['session_id', 'session_hash', 'account', 'pin_digest', 'device', ...AUDIT, 'now',
      'idle_seconds', 'absolute_seconds', 'max_failures', 'lock_seconds'],
    out: ['status', 'customer_id', 'bank_id', 'role', 'retry_after'],
  },
  session_resolve: {
    in: ['session_id', 'now', 'idle_seconds', 'touch_seconds', ...AUDIT],
    out: ['status', 'customer_id', 'account_id', 'bank_id', 'role', 'device', 'session_hash',
      'created_at', 'last_seen_at', 'idle_expires_at', 'absolute_expires_at'],
    idempotent: true,
  },
  logout: { in: ['session_id', ...AUDIT, 'now'], out: ['status'], idempotent: true },
  logout_all: { in: ['session_id', ...AUDIT, 'now'], out: ['status', 'sessions'], idempotent: true },
  purge_expired: { in: ['now', 'audit_before'], out: ['sessions', 'audit_rows'], idempotent: true },
  transfer: {
    in: ['customer_id', 'session_bank_id', 'bank_id', 'idempotency_key', 'request_digest',
      'transfer_id', 'from_account', 'to_account', 'amount', 'reference', 'now', ...AUDIT,
      'device', 'session_hash'],
    out: ['status', 'transfer_id', 'from_account', 'to_account', 'amount', 'currency',
      'reference', 'booked_at'],
    idempotent: true, // the idempotency key makes a retry a replay
  },
  employee_create: { in: ['empno', ...EMPLOYEE_COLUMNS, ...ACTOR], out: ['status'] },
  employee_update: { in: ['empno', 'fields', ...EMPLOYEE_COLUMNS, ...ACTOR], out: ['status'] },
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
