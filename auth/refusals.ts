// How a refused token or proof is answered: a 401 whose WWW-Authenticate
// challenges the scheme the client must use, RFC 6750 §3 for a bearer token,
// RFC 9449 §7.1 for a device-bound one (with the algorithms a proof may use
// and the nonce its next proof must carry). The reason goes to the log only.
import { problem, type ProblemError } from '../contract/problems.js';

/** How a token is presented: a bound session's as DPoP, an unbound one's as Bearer. */
export type Scheme = 'Bearer' | 'DPoP';

/** Asymmetric algorithms a device key may use: P-256 (every phone's secure enclave) and Ed25519. */
export const DPOP_ALGORITHMS = ['ES256', 'Ed25519', 'EdDSA'] as const;

const ALGS = `algs="${DPOP_ALGORITHMS.join(' ')}"`;

/** The token is not honoured (invalid_token), or the session it names is over (session_expired). */
export function tokenRefused(code: 'invalid_token' | 'session_expired', scheme: Scheme, reason: string): ProblemError {
  const challenge = scheme === 'DPoP' ? `DPoP error="invalid_token", ${ALGS}` : 'Bearer error="invalid_token"';
  return problem(code, { reason, headers: { 'WWW-Authenticate': challenge } });
}

/** The DPoP proof is refused, lacks the current nonce, or is missing where the policy requires one. */
export function proofRefused(code: 'invalid_dpop_proof' | 'use_dpop_nonce' | 'dpop_required', nonce: string, reason: string): ProblemError {
  const challenge = code === 'dpop_required' ? `DPoP ${ALGS}` : `DPoP error="${code}", ${ALGS}`;
  return problem(code, { reason, headers: { 'WWW-Authenticate': challenge, 'DPoP-Nonce': nonce } });
}
