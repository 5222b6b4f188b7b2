// Every failure the client reports: one class per thing an app does
// differently (log in again, wait, ask for the PIN again, show field errors),
// each carrying the service's stable problem `code` (RFC 9457 problem details).
import type { Problem } from './contract.js';

/** A problem as received: one of the service's codes, or http_<status> for a gateway's own page. */
export type ReceivedProblem = Omit<Problem, 'code'> & { code: Problem['code'] | `http_${number}` };

export class ClientError extends Error {
  /**
   * On a failed transfer: its Idempotency-Key. Sending the same transfer again
   * with it (TransferRequest.idempotencyKey) finishes it or returns the
   * original booking, never a second one.
   */
  idempotencyKey?: string;

  constructor(readonly code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * No whole answer: the service could not be reached, or the connection was cut
 * mid-exchange. The message names the underlying reason (ECONNREFUSED, a
 * certificate error, a timeout) and what to do about it; `cause` is the
 * original error.
 */
export class NetworkError extends ClientError {
  constructor(cause: unknown, origin?: string) {
    super('network_error', `${origin ?? 'The service'} could not be reached, or the connection was cut${reasonOf(cause)}`, { cause });
  }
}

/** A key store that cannot work here: IndexedDbKeyStore outside a browser. */
export class KeyStoreUnavailable extends ClientError {
  constructor(message: string) {
    super('key_store_unavailable', message);
  }
}

/** A call that needs a session, made without one: never logged in, or logged out. */
export class NotLoggedIn extends ClientError {
  constructor() {
    super('not_logged_in', 'Log in first.');
  }
}

/** The service answered with a problem. */
export class ApiError extends ClientError {
  constructor(readonly status: number, readonly problem: ReceivedProblem, readonly retryAfterSeconds: number | null = null) {
    super(problem.code, problem.detail ?? problem.title);
  }

  /** Per-field messages of a validation failure (path and message), else empty. */
  get errors(): NonNullable<ReceivedProblem['errors']> {
    return this.problem.errors ?? [];
  }
}

/**
 * The session is over: idle or absolute timeout, logged out elsewhere, or the
 * token refused. The client has already forgotten it; log in again. When the
 * client saw the deadline pass itself, problem.requestId is empty.
 */
export class SessionExpired extends ApiError {}
/** Wrong account number or PIN (indistinguishable on purpose). */
export class InvalidCredentials extends ApiError {}
/** Too many wrong PINs: retryAfterSeconds says when to try again. */
export class AccountLocked extends ApiError {}
/** rate_limited, payee_checks_exhausted: wait retryAfterSeconds. */
export class TooManyRequests extends ApiError {}
export class InsufficientFunds extends ApiError {}
/** The daily transfer amount or count would be exceeded. */
export class LimitExceeded extends ApiError {}
/** Above the step-up amount a transfer needs the PIN again (TransferRequest.pin). */
export class StepUpRequired extends ApiError {}
export class StepUpFailed extends ApiError {}
/** The transfer itself is refused: wrong bank, unknown payee, same account, currency, signature, key reuse. */
export class TransferRefused extends ApiError {}
/** validation_failed, malformed_json: `errors` names the fields. */
export class ValidationFailed extends ApiError {}
export class NotFound extends ApiError {}
export class Forbidden extends ApiError {}
/** The service refused the device's proof (a clock far off, or a client bug): not retried. */
export class ProofRejected extends ApiError {}
/**
 * 503: the host is down, this instance is draining, or a check it must make
 * cannot be made now; or 502/504 from a gateway in front that got no answer
 * from any instance. retryAfterSeconds says when to come back.
 */
export class ServiceUnavailable extends ApiError {}

type ApiErrorClass = new (status: number, problem: ReceivedProblem, retryAfterSeconds: number | null) => ApiError;

/** Every code the service's table of problems has (its OpenAPI document's Problem.code): one class each. */
type ProblemCode = Problem['code'];

/**
 * The class of each problem code. Typed over the generated union, so a code
 * the service adds fails the client's build until it is given a class here
 * (npm run client:types regenerates the union from /openapi.json).
 */
const BY_CODE: Record<ProblemCode, ApiErrorClass> = {
  session_expired: SessionExpired,
  invalid_token: SessionExpired,
  invalid_credentials: InvalidCredentials,
  account_locked: AccountLocked,
  rate_limited: TooManyRequests,
  payee_checks_exhausted: TooManyRequests,
  insufficient_funds: InsufficientFunds,
  limit_exceeded: LimitExceeded,
  step_up_required: StepUpRequired,
  step_up_failed: StepUpFailed,
  bank_mismatch: TransferRefused,
  unknown_account: TransferRefused,
  currency_mismatch: TransferRefused,
  same_account: TransferRefused,
  idempotency_key_reused: TransferRefused,
  signature_required: TransferRefused,
  invalid_signature: TransferRefused,
  validation_failed: ValidationFailed,
  malformed_json: ValidationFailed,
  not_found: NotFound,
  forbidden: Forbidden,
  invalid_dpop_proof: ProofRejected,
  use_dpop_nonce: ProofRejected,
  dpop_required: ProofRejected,
  employee_referenced: ApiError,
  edlevel_decrease: ApiError,
  unknown_department: ApiError,
  conflict: ApiError,
  method_not_allowed: ApiError,
  not_implemented: ApiError,
  payload_too_large: ApiError,
  unsupported_media_type: ApiError,
  internal_error: ApiError,
  host_unavailable: ServiceUnavailable,
  shutting_down: ServiceUnavailable,
  temporarily_unavailable: ServiceUnavailable,
  client_not_built: ServiceUnavailable,
};

/** A load balancer's own answers when no instance answered it: whether the request was done is unknown. */
const GATEWAY_FAILURES = new Set([502, 503, 504]);

/** The typed error for a problem answer; an answer that is not problem+json (a proxy's page) gets code http_<status>. */
export function errorFor(status: number, body: unknown, retryAfterSeconds: number | null): ApiError {
  const problem: ReceivedProblem = isProblem(body)
    ? body
    : { type: 'about:blank', title: `HTTP ${status}`, status, code: `http_${status}`, requestId: '' };
  const known: ApiErrorClass | undefined = Object.hasOwn(BY_CODE, problem.code) ? BY_CODE[problem.code as ProblemCode] : undefined;
  const ErrorClass = known ?? (GATEWAY_FAILURES.has(status) ? ServiceUnavailable : ApiError);
  return new ErrorClass(status, problem, retryAfterSeconds);
}

/** What the client says when it saw the session's idle or absolute deadline pass on its own clock. */
export function sessionOver(detail: string): SessionExpired {
  return new SessionExpired(401, { type: 'urn:problem:session_expired', title: 'Session expired', status: 401, code: 'session_expired', detail, requestId: '' });
}

function isProblem(body: unknown): body is ReceivedProblem {
  return typeof body === 'object' && body !== null
    && 'code' in body && typeof body.code === 'string'
    && 'title' in body && typeof body.title === 'string'
    && 'status' in body && typeof body.status === 'number';
}

/**
 * What to do about a failure's code: the codes an app's developer meets
 * first. Node's fetch (undici) throws TypeError('fetch failed') and keeps the
 * socket's or TLS's error, with its code, in `cause`.
 */
const NEXT_STEP: Record<string, string> = {
  ECONNREFUSED: 'nothing listens there: is the service running, and is baseUrl right?',
  ENOTFOUND: 'the host name does not resolve: check baseUrl',
  EAI_AGAIN: 'the host name could not be resolved now: check the network or DNS',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the certificate is self-signed: in Node, trust it with NODE_EXTRA_CA_CERTS=<its PEM file>',
  SELF_SIGNED_CERT_IN_CHAIN: 'the certificate is from a CA this runtime does not trust: in Node, NODE_EXTRA_CA_CERTS=<the CA PEM file>',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the certificate is from a CA this runtime does not trust: in Node, NODE_EXTRA_CA_CERTS=<the CA PEM file>',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the certificate chain is incomplete or its CA unknown: in Node, NODE_EXTRA_CA_CERTS=<the CA PEM file>',
  CERT_HAS_EXPIRED: 'the certificate has expired',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the certificate does not name the host in baseUrl',
  TimeoutError: 'no whole answer within requestTimeoutMs',
};

/** " (CODE: the cause's message; what to do)", from the first code along the cause chain, else the cause's own words. */
function reasonOf(cause: unknown): string {
  let code: string | undefined;
  let message: string | undefined;
  // AbortSignal.timeout's DOMException says "TimeoutError" by name (its numeric code is legacy).
  for (let error = cause, depth = 0; error instanceof Error && depth < 5 && code === undefined; error = error.cause, depth++) {
    message = error.message;
    if ('code' in error && typeof error.code === 'string') code = error.code;
    else if (error.name === 'TimeoutError') code = error.name;
  }
  if (message === undefined) return '.';
  const step = code !== undefined && Object.hasOwn(NEXT_STEP, code) ? `; ${NEXT_STEP[code]}` : '';
  return ` (${code !== undefined ? `${code}: ` : ''}${message}${step}).`;
}
