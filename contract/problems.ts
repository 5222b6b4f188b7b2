// Every problem a client can see, in one table: its stable code, HTTP status,
// title and default detail. Errors are thrown as ProblemError where they
// arise (auth/, routes/, app/) and rendered as RFC 9457 problem details in one
// place (app/problem.ts); the OpenAPI document, and through it the client
// kit's types and the contract tests, read this table.

export interface FieldError {
  path: string;
  message: string;
}

interface ProblemSpec {
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  /** Seconds a client should wait before trying again, sent as Retry-After unless the thrower knows better. */
  readonly retryAfter?: number;
}

export const PROBLEMS = {
  validation_failed: { status: 400, title: 'Invalid request', detail: 'The request is not valid.' },
  malformed_json: { status: 400, title: 'Malformed JSON', detail: 'The request body is not valid JSON.' },
  invalid_credentials: { status: 401, title: 'Invalid credentials', detail: 'The account number or PIN is not correct.' },
  invalid_token: { status: 401, title: 'Invalid token', detail: 'The access token is missing or not valid.' },
  session_expired: { status: 401, title: 'Session expired', detail: 'The session has ended; log in again.' },
  invalid_dpop_proof: { status: 401, title: 'Invalid DPoP proof', detail: 'The DPoP proof is missing or not valid for this request and key.' },
  use_dpop_nonce: { status: 401, title: 'DPoP nonce required', detail: 'Sign the proof again with the nonce in the DPoP-Nonce header.' },
  dpop_required: { status: 401, title: 'Invalid DPoP proof', detail: 'This service binds every session to a device key: send a DPoP proof.' },
  forbidden: { status: 403, title: 'Forbidden', detail: 'This session may not do that.' },
  bank_mismatch: { status: 403, title: 'Forbidden', detail: 'bankId is not the bank of this session.' },
  step_up_required: { status: 403, title: 'Forbidden', detail: 'This transfer needs the PIN again (field pin).' },
  step_up_failed: { status: 403, title: 'Forbidden', detail: 'The PIN is not correct.' },
  signature_required: { status: 403, title: 'Forbidden', detail: 'A device-bound session signs every transfer (header Transfer-Signature).' },
  invalid_signature: { status: 403, title: 'Forbidden', detail: 'The transfer signature does not match this transfer.' },
  not_found: { status: 404, title: 'Not found', detail: 'No such resource.' },
  method_not_allowed: { status: 405, title: 'Method not allowed', detail: 'This route does not support that method.' },
  conflict: { status: 409, title: 'Conflict', detail: 'The resource already exists.' },
  insufficient_funds: { status: 409, title: 'Conflict', detail: 'The source account cannot cover this amount.' },
  employee_referenced: { status: 409, title: 'Conflict', detail: 'Other rows refer to this employee.' },
  payload_too_large: { status: 413, title: 'Payload too large', detail: 'The request body is larger than allowed.' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type', detail: 'Request bodies must be application/json.' },
  unknown_account: { status: 422, title: 'Unprocessable request', detail: 'toAccount is not an account of this bank.' },
  currency_mismatch: { status: 422, title: 'Unprocessable request', detail: 'Both accounts must hold the same currency.' },
  same_account: { status: 422, title: 'Unprocessable request', detail: 'fromAccount and toAccount must differ.' },
  idempotency_key_reused: { status: 422, title: 'Unprocessable request', detail: 'This Idempotency-Key was used for a different transfer.' },
  limit_exceeded: { status: 422, title: 'Unprocessable request', detail: 'This transfer would exceed the daily transfer limit.' },
  edlevel_decrease: { status: 422, title: 'Unprocessable request', detail: 'edLevel may not decrease.' },
  unknown_department: { status: 422, title: 'Unprocessable request', detail: 'workDept must name a department.' },
  account_locked: { status: 423, title: 'Account locked', detail: 'Too many failed logins; try again later.' },
  rate_limited: { status: 429, title: 'Too many requests', detail: 'Too many login attempts from this address.' },
  payee_checks_exhausted: {
    status: 429, title: 'Too many requests',
    detail: 'Too many transfers to unknown accounts today; transfers are blocked until the day ends (UTC).',
  },
  internal_error: { status: 500, title: 'Internal error', detail: 'Something went wrong on our side.' },
  not_implemented: { status: 501, title: 'Not implemented', detail: 'This method is not supported.' },
  host_unavailable: { status: 503, title: 'Host unavailable', detail: 'The host is not reachable; try again shortly.', retryAfter: 5 },
  shutting_down: { status: 503, title: 'Shutting down', detail: 'This instance is draining; another instance will answer.', retryAfter: 1 },
  temporarily_unavailable: {
    status: 503, title: 'Temporarily unavailable', detail: 'This request cannot be checked right now; try again shortly.', retryAfter: 2,
  },
  client_not_built: { status: 503, title: 'Client not built', detail: 'The demo runs the compiled client: run npm run client:build, then reload.' },
} as const satisfies Record<string, ProblemSpec>;

export type ProblemCode = keyof typeof PROBLEMS;

/** What each status means, for the OpenAPI document's shared responses (the codes come from PROBLEMS). */
export const STATUS_MEANINGS: Record<number, string> = {
  400: 'Invalid request',
  401: 'Refused credentials, token or DPoP proof',
  403: 'Not allowed for this session',
  404: 'Not found',
  405: 'Method not allowed on this path, see Allow',
  409: 'Conflict',
  413: 'Body too large',
  415: 'Body is not application/json',
  422: 'Semantically invalid',
  423: 'Account locked, see Retry-After',
  429: 'Too many requests, see Retry-After',
  500: 'Unexpected failure',
  501: 'Method not implemented',
  503: 'Host unavailable, instance draining, or a fleet-wide check that cannot be made now, see Retry-After',
};

export const PROBLEM_CODES = Object.keys(PROBLEMS) as ProblemCode[];

/** The codes a status can carry, in the table's order. */
export const codesOf = (status: number): ProblemCode[] => PROBLEM_CODES.filter((code) => PROBLEMS[code].status === status);

export interface ProblemOptions {
  /** Instead of the table's detail: what the client should know (never a driver message or a secret). */
  detail?: string;
  /** Per-field messages of a validation failure. */
  errors?: FieldError[];
  headers?: Record<string, string>;
  /** Seconds until a retry may succeed (Retry-After); the table's default when it has one. */
  retryAfter?: number;
  /** Why, for the log line only: never rendered (a DPoP refusal's reason is no oracle for the client). */
  reason?: string;
}

/** A problem a client sees: thrown where it arises, with its own status and headers; app/problem.ts renders it. */
export class ProblemError extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly errors: FieldError[] | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly reason: string | undefined;

  constructor(readonly code: ProblemCode, options: ProblemOptions = {}) {
    const spec: ProblemSpec = PROBLEMS[code];
    super(options.detail ?? spec.detail);
    this.name = 'ProblemError';
    this.status = spec.status;
    this.title = spec.title;
    this.detail = options.detail ?? spec.detail;
    this.errors = options.errors;
    this.reason = options.reason;
    const retryAfter = options.retryAfter ?? spec.retryAfter;
    this.headers = { ...(retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) }), ...options.headers };
  }
}

/** The one constructor: `throw problem('not_found', { detail: 'No such account.' })`. */
export const problem = (code: ProblemCode, options?: ProblemOptions): ProblemError => new ProblemError(code, options);

/** 400 validation_failed naming the fields. */
export const invalid = (errors: FieldError[]): ProblemError => problem('validation_failed', { errors });
