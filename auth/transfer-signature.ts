// Signed transfers (PSD2 dynamic linking): on a device-bound session the
// device key signs the transfer's own fields, so a change to any of them (an
// intercepted request rewritten, a replay under a new key) is refused. The
// signature is a compact JWS (typ transfer+jwt) checked with the key the
// request's DPoP proof carried, already matched to the session's binding.
import { createHash } from 'node:crypto';
import { compactVerify, errors, importJWK, type JWK } from 'jose';
import { DPOP_ALGORITHMS } from './dpop.js';

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

export class SignatureRejected extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'SignatureRejected';
  }
}

/** An amount in whole cents, exactly (at most 13 + 2 digits: far inside a double's integers); null when it is not an amount. */
export const cents = (amount: unknown): number | null =>
  typeof amount === 'string' && /^\d{1,13}(\.\d{1,2})?$/.test(amount) ? Math.round(Number(amount) * 100) : null;

/** Checks `jws` against the request's own fields; throws SignatureRejected (the reason is for logs only). */
export async function checkTransferSignature(
  jws: string, deviceKey: { jwk: JWK; algorithm: string }, transfer: SignedTransfer, now: Date,
): Promise<CheckedSignature> {
  let claims: Record<string, unknown>;
  try {
    const key = await importJWK(deviceKey.jwk, deviceKey.algorithm);
    const { payload, protectedHeader } = await compactVerify(jws, key, { algorithms: [...DPOP_ALGORITHMS] });
    if (protectedHeader.typ !== 'transfer+jwt') throw new SignatureRejected('typ is not transfer+jwt');
    claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof SignatureRejected) throw error;
    throw new SignatureRejected(error instanceof errors.JOSEError ? error.code : 'unreadable signature');
  }
  if (!claims || typeof claims !== 'object') throw new SignatureRejected('payload is not an object');
  const { fromAccount, toAccount, amount, currency, idempotencyKey, iat } = claims;
  if (fromAccount !== transfer.fromAccount || toAccount !== transfer.toAccount) throw new SignatureRejected('accounts differ');
  const signedCents = cents(amount);
  if (signedCents === null || signedCents !== cents(transfer.amount)) throw new SignatureRejected('amount differs');
  if (idempotencyKey !== transfer.idempotencyKey) throw new SignatureRejected('idempotency key differs');
  if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) throw new SignatureRejected('no currency');
  if (typeof iat !== 'number' || Math.abs(iat - now.getTime() / 1000) > SIGNATURE_WINDOW_SECONDS) throw new SignatureRejected('signed too long ago or in the future');
  return { currency, digest: createHash('sha256').update(jws).digest('hex') };
}
