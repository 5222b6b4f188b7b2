// The catalogue of stored procedures: names, parameter lists and what each
// status code means, the single source each driver builds its CALL text from
// and each caller reads its outcome from. Db2 and PL/pgSQL definitions are
// checked against it by test/host/catalogue.test.ts.

export interface ProcedureSignature {
  readonly in: readonly string[];
  readonly out: readonly string[];
  /** What o_status means: the outcome at each index (purge answers none). */
  readonly outcomes?: readonly string[];
  /** Running it twice has the effect of running it once: a driver may retry it after a lost connection. */
  readonly idempotent?: boolean;
}

const AUDIT = ['request_id', 'client_address', 'trace_id'] as const;

/** The arguments every audited procedure takes about who asked (from a RequestContext; the host interface imports this catalogue, not the reverse). */
export const auditArgs = (context: { requestId: string; clientAddress: string; traceId: string | null }): Record<(typeof AUDIT)[number], string | null> => ({
  request_id: context.requestId, client_address: context.clientAddress, trace_id: context.traceId,
});
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
    outcomes: ['ok', 'invalid_credentials', 'locked'],
  },
  session_resolve: {
    in: ['session_id', 'now', 'idle_seconds', 'touch_seconds', ...AUDIT],
    out: ['status', 'customer_id', 'account_id', 'bank_id', 'access_role', 'device', 'jkt', 'session_hash',
      'created_at', 'last_seen_at', 'idle_expires_at', 'absolute_expires_at'],
    outcomes: ['alive', 'gone', 'expired'],
    idempotent: true,
  },
  logout: { in: ['session_id', ...AUDIT, 'now'], out: ['status'], outcomes: ['deleted', 'gone'], idempotent: true },
  logout_all: { in: ['session_id', ...AUDIT, 'now'], out: ['status', 'sessions'], outcomes: ['done', 'gone'], idempotent: true },
  session_end: { in: ['session_id', 'ref', ...AUDIT, 'now'], out: ['status'], outcomes: ['ended', 'gone', 'not_found'], idempotent: true },
  purge_expired: { in: ['now', 'audit_before', 'guard_before', 'known_device_before'], out: ['sessions', 'audit_rows'], idempotent: true },
  transfer: {
    in: ['customer_id', 'login_account', 'session_bank_id', 'bank_id', 'idempotency_key', 'request_digest',
      'transfer_id', 'from_account', 'to_account', 'amount', 'reference', 'signed_currency',
      'auth_method', 'auth_digest', 'pin_digest', 'max_failures', 'lock_seconds', 'payee_max_failures',
      'daily_amount_limit', 'daily_count_limit', 'now', ...AUDIT, 'device', 'session_hash', 'jkt'],
    out: ['status', 'transfer_id', 'from_account', 'to_account', 'amount', 'currency',
      'reference', 'booked_at', 'retry_after'],
    outcomes: [
      'booked', 'replayed', 'bank_mismatch', 'not_found', 'unknown_account', 'currency_mismatch',
      'insufficient_funds', 'idempotency_key_reused', 'same_account', 'invalid_amount',
      'payee_checks_exhausted', 'limit_exceeded', 'step_up_failed', 'account_locked', 'signature_mismatch',
    ],
    // The idempotency key makes a retry a replay. (A wrong step-up PIN whose
    // reply was lost would count twice toward the lockout: the safe side.)
    idempotent: true,
  },
  employee_create: {
    in: ['empno', ...EMPLOYEE_COLUMNS, ...ACTOR], out: ['status', 'empno', ...EMPLOYEE_COLUMNS],
    outcomes: ['done', 'exists', 'unknown_department'],
  },
  employee_update: {
    in: ['empno', 'fields', ...EMPLOYEE_COLUMNS, ...ACTOR], out: ['status', 'empno', ...EMPLOYEE_COLUMNS],
    outcomes: ['done', 'not_found', 'edlevel_decrease', 'unknown_department'],
  },
  employee_delete: { in: ['empno', ...ACTOR], out: ['status'], outcomes: ['deleted', 'not_found', 'referenced'] },
} as const satisfies Record<string, ProcedureSignature>;

export type ProcedureName = keyof typeof procedures;

/** The procedures that answer an o_status, and what each of theirs can mean. */
type Answering = { [N in ProcedureName]: (typeof procedures)[N] extends { outcomes: readonly string[] } ? N : never }[ProcedureName];
export type Outcome<N extends Answering> = (typeof procedures)[N]['outcomes'][number];

/** A procedure's status code as the outcome the catalogue names; any other code is a 500, never a guess. */
export function outcomeOf<N extends Answering>(name: N, status: unknown): Outcome<N> {
  const outcomes: readonly Outcome<N>[] = procedures[name].outcomes;
  const code = status === null || status === undefined ? Number.NaN : Number(status);
  const outcome = Number.isInteger(code) ? outcomes[code] : undefined;
  if (outcome === undefined) throw new Error(`procedure ${name} answered unknown status ${String(status)}`);
  return outcome;
}

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
