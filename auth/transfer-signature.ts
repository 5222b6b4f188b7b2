// Signed transfers (PSD2 dynamic linking): on a device-bound session the
// device key signs the transfer's own fields, so a change to any of them (an
// intercepted request rewritten, a replay under a new key) is refused. The
// signature is a compact JWS (typ transfer+jwt) checked with the key the
// request's DPoP proof carried, already matched to the session's binding.
import { createHash } from 'node:crypto';
import { errors } from 'jose';
import { cents } from '../contract/money.js';
import { problem, ProblemError } from '../contract/problems.js';
import { deviceJwsHeader, verifiedPayload, type DeviceKey } from './device-keys.js';

/** How far the signing time may lie from this instance's clock (device clocks drift). */
export const SIGNATURE_WINDOW_SECONDS = 300;

export interface SignedTransfer {
  fromAccount: string;
  toAccount: string;
  amount: string;
  idempotencyKey: string;
}

export interface CheckedSignature {
  /** The currency the customer saw and signed: the host compares it with the account's. */
  currency: string;
  /** SHA-256 (hex) of the whole JWS: what the audit row records instead of the signature. */
  digest: string;
}

/** 403 invalid_signature; the reason is for the log only. */
const refused = (reason: string): ProblemError => problem('invalid_signature', { reason });

/**
 * The device's signature over this transfer, checked against the request's
 * own fields: 403 signature_required without one, invalid_signature when any
 * field, the key or the time differs.
 */
export function checkTransferSignature(
  jws: string | undefined, deviceKey: DeviceKey, transfer: SignedTransfer, now: Date,
): CheckedSignature {
  if (!jws) throw problem('signature_required');
  let claims: Record<string, unknown>;
  try {
    claims = verifiedPayload(jws, deviceKey, deviceJwsHeader(jws, 'transfer+jwt').alg);
  } catch (error) {
    throw refused(error instanceof errors.JOSEError ? `${error.code}: ${error.message}` : 'unreadable signature');
  }
  const { fromAccount, toAccount, amount, currency, idempotencyKey, iat } = claims;
  if (fromAccount !== transfer.fromAccount || toAccount !== transfer.toAccount) throw refused('accounts differ');
  const signedCents = cents(amount);
  if (signedCents === null || signedCents !== cents(transfer.amount)) throw refused('amount differs');
  if (idempotencyKey !== transfer.idempotencyKey) throw refused('idempotency key differs');
  if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) throw refused('no currency');
  if (typeof iat !== 'number' || Math.abs(iat - now.getTime() / 1000) > SIGNATURE_WINDOW_SECONDS) throw refused('signed too long ago or in the future');
  return { currency, digest: createHash('sha256').update(jws).digest('hex') };
}
