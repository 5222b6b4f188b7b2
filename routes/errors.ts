// Every error a client can see: a class with a stable problem `code`, an HTTP
// status and a safe message. app/problem.ts turns them, and host errors, into
// RFC 9457 problem details; nothing else reaches a response body.

export interface FieldError {
  path: string;
  message: string;
}

export class AppError extends Error {
  readonly headers: Record<string, string> = {};

  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail?: string,
    readonly errors?: FieldError[],
  ) {
    super(detail ?? title);
    this.name = new.target.name;
  }

  withHeader(name: string, value: string): this {
    this.headers[name] = value;
    return this;
  }
}

export class ValidationFailed extends AppError {
  constructor(errors: FieldError[], detail = 'The request is not valid.') {
    super(400, 'validation_failed', 'Invalid request', detail, errors);
  }
}

export class MalformedBody extends AppError {
  constructor() {
    super(400, 'malformed_json', 'Malformed JSON', 'The request body is not valid JSON.');
  }
}

export class UnsupportedMediaType extends AppError {
  constructor() {
    super(415, 'unsupported_media_type', 'Unsupported media type', 'Request bodies must be application/json.');
  }
}

export class PayloadTooLarge extends AppError {
  constructor(detail = 'The request body is larger than allowed.') {
    super(413, 'payload_too_large', 'Payload too large', detail);
  }
}

/** The algorithms a device key may use, as the DPoP challenge announces them (RFC 9449 §7.1). */
export const DPOP_CHALLENGE_ALGS = 'ES256 Ed25519 EdDSA';

/**
 * Every 401 names its scheme's problem in WWW-Authenticate: RFC 6750 for a
 * bearer token, RFC 9449 for a device-bound one (with the algorithms a proof
 * may use).
 */
export class InvalidToken extends AppError {
  constructor(code: 'invalid_token' | 'session_expired' = 'invalid_token', detail?: string, scheme: 'Bearer' | 'DPoP' = 'Bearer') {
    super(401, code, code === 'session_expired' ? 'Session expired' : 'Invalid token',
      detail ?? (code === 'session_expired' ? 'The session has ended; log in again.' : 'The access token is missing or not valid.'));
    this.withHeader('WWW-Authenticate', scheme === 'DPoP'
      ? `DPoP error="invalid_token", algs="${DPOP_CHALLENGE_ALGS}"`
      : 'Bearer error="invalid_token"');
  }
}

/** RFC 9449 §7.1: the DPoP proof is missing or wrong, or it lacks the server's current nonce (sent along). */
export class InvalidDpopProof extends AppError {
  constructor(code: 'invalid_dpop_proof' | 'use_dpop_nonce' | 'dpop_required', nonce: string) {
    super(401, code, code === 'use_dpop_nonce' ? 'DPoP nonce required' : 'Invalid DPoP proof', {
      invalid_dpop_proof: 'The DPoP proof is missing or not valid for this request and key.',
      use_dpop_nonce: 'Sign the proof again with the nonce in the DPoP-Nonce header.',
      dpop_required: 'This service binds every session to a device key: send a DPoP proof.',
    }[code]);
    this.withHeader('WWW-Authenticate', code === 'dpop_required'
      ? `DPoP algs="${DPOP_CHALLENGE_ALGS}"`
      : `DPoP error="${code === 'use_dpop_nonce' ? 'use_dpop_nonce' : 'invalid_dpop_proof'}", algs="${DPOP_CHALLENGE_ALGS}"`);
    this.withHeader('DPoP-Nonce', nonce);
  }
}

export class InvalidCredentials extends AppError {
  constructor() {
    super(401, 'invalid_credentials', 'Invalid credentials', 'The account number or PIN is not correct.');
  }
}

export class AccountLocked extends AppError {
  constructor(retryAfterSeconds: number) {
    super(423, 'account_locked', 'Account locked', 'Too many failed logins; try again later.');
    this.withHeader('Retry-After', String(retryAfterSeconds));
  }
}

export class TooManyRequests extends AppError {
  constructor(code: string, detail: string, retryAfterSeconds: number) {
    super(429, code, 'Too many requests', detail);
    this.withHeader('Retry-After', String(retryAfterSeconds));
  }
}

export class RateLimited extends TooManyRequests {
  constructor(retryAfterSeconds: number) {
    super('rate_limited', 'Too many login attempts from this address.', retryAfterSeconds);
  }
}

export class Forbidden extends AppError {
  constructor(code = 'forbidden', detail = 'This session may not do that.') {
    super(403, code, 'Forbidden', detail);
  }
}

export class NotFound extends AppError {
  constructor(detail = 'No such resource.') {
    super(404, 'not_found', 'Not found', detail);
  }
}

export class MethodNotAllowed extends AppError {
  constructor(allow: string) {
    super(405, 'method_not_allowed', 'Method not allowed', 'This route does not support that method.');
    this.withHeader('Allow', allow);
  }
}

export class Conflict extends AppError {
  constructor(detail: string, code = 'conflict') {
    super(409, code, 'Conflict', detail);
  }
}

export class Unprocessable extends AppError {
  constructor(code: string, detail: string) {
    super(422, code, 'Unprocessable request', detail);
  }
}

export class HostUnavailable extends AppError {
  constructor() {
    super(503, 'host_unavailable', 'Host unavailable', 'The host is not reachable; try again shortly.');
    this.withHeader('Retry-After', '5');
  }
}

/** A check that must hold across the fleet (a DPoP proof used once) cannot be made: refused, never guessed. */
export class TemporarilyUnavailable extends AppError {
  constructor() {
    super(503, 'temporarily_unavailable', 'Temporarily unavailable', 'This request cannot be checked right now; try again shortly.');
    this.withHeader('Retry-After', '2');
  }
}

export class ShuttingDown extends AppError {
  constructor() {
    super(503, 'shutting_down', 'Shutting down', 'This instance is draining; another instance will answer.');
    this.withHeader('Retry-After', '1');
  }
}

export class InternalError extends AppError {
  constructor() {
    super(500, 'internal_error', 'Internal error', 'Something went wrong on our side.');
  }
}

