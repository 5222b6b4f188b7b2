// Device keys: the public keys DPoP proofs carry (RFC 9449 §4.2), checked and
// imported into node:crypto once per proof header (a device sends the same
// header with every proof) and kept with their RFC 7638 thumbprint, and
// compact JWS (proofs, transfer signatures) checked with them synchronously.
//
// Why not jose's jwtVerify(proof, EmbeddedJWK), as before: it imported the
// key through WebCrypto and verified asynchronously on every request, and
// the import alone was a fifth of a device-bound read's CPU (bench, issue
// 25). jose still does what it does best here: decoding the protected
// header, and the error classes whose codes the refusals log.
import { createHash, createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { decodeProtectedHeader, errors, type JWK } from 'jose';
import { RecentlyUsed } from './recently-used.js';
import { DPOP_ALGORITHMS } from './refusals.js';

export type DeviceAlgorithm = (typeof DPOP_ALGORITHMS)[number];

/** The key type and curve each algorithm needs (RFC 7518 §3.4, RFC 8037 §3.1, RFC 9864). */
const KEY_TYPES: Record<DeviceAlgorithm, { kty: string; crv: string }> = {
  ES256: { kty: 'EC', crv: 'P-256' },
  Ed25519: { kty: 'OKP', crv: 'Ed25519' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
};

/** Members a public JWK must not hold: any of them is private key material. */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];
/** ES256 signatures are r‖s (RFC 7518 §3.4), Ed25519 ones R‖S (RFC 8032 §5.1.6): 64 bytes either way. */
const SIGNATURE_BYTES = 64;
/** P-256 coordinates and Ed25519 public keys are 32 bytes, in base64url 43 characters. */
const COORDINATE = /^[A-Za-z0-9_-]{43}$/;
/** Distinct proof headers (so device keys) kept; past it, one unused since the last sweep goes first (a stranger inventing keys evicts the ones it invented; the keys of devices in use are spared). */
const KEPT_HEADERS = 10_000;
/** A device's header is about 215 characters; a longer one (padded members) is checked every time, never kept, so the memory stays about 10,000 × 1 KB at most. */
const KEPT_HEADER_CHARS = 1024;

export interface DeviceKey {
  /** The public key as RFC 7638 names it: its required members only. */
  readonly jwk: JWK;
  /** RFC 7638 SHA-256 thumbprint: what a bound session's token names (cnf.jkt). */
  readonly jkt: string;
  readonly kty: 'EC' | 'OKP';
  readonly key: KeyObject;
}

/** Whether `value` is one of the algorithms a device key may sign with. */
export const isDeviceAlgorithm = (value: unknown): value is DeviceAlgorithm =>
  typeof value === 'string' && (DPOP_ALGORITHMS as readonly string[]).includes(value);

/** A DPoP proof's protected header, checked: the algorithm it names and the device key it carries. */
export interface ProofHeader {
  alg: DeviceAlgorithm;
  key: DeviceKey;
}

export class DeviceKeys {
  /** By the protected header's text as sent: every proof of one device carries the same header. */
  private readonly kept = new RecentlyUsed<ProofHeader>(KEPT_HEADERS);

  /** How many proof headers are remembered now. */
  get keptHeaders(): number {
    return this.kept.size;
  }

  /**
   * The algorithm and device key of a DPoP proof's protected header, checked
   * (typ, alg, crit, a public key of the algorithm's type) and the key
   * imported the first time the header is seen, then found by the header's
   * text. Throws jose's JWSInvalid, JOSEAlgNotAllowed or JWKInvalid for a
   * header that could never verify; a refused header is not remembered.
   */
  ofProof(jws: string): ProofHeader {
    const end = jws.indexOf('.');
    const text = end < 0 ? jws : jws.slice(0, end); // the segment jose's decodeProtectedHeader reads
    const known = this.kept.use(text);
    if (known) return known;
    const { alg, jwk } = deviceJwsHeader(jws, 'dpop+jwt');
    const members = publicMembers(jwk, alg);
    let key: KeyObject;
    try {
      key = createPublicKey({ key: members as JsonWebKey, format: 'jwk' });
    } catch {
      throw new errors.JWKInvalid(`not a ${members.crv} public key`);
    }
    // RFC 7638 §3: the required members in lexicographic order, no whitespace; `members` is built in that order.
    const jkt = createHash('sha256').update(JSON.stringify(members)).digest('base64url');
    const header: ProofHeader = { alg, key: { jwk: members, jkt, kty: members.kty as 'EC' | 'OKP', key } };
    if (text.length > KEPT_HEADER_CHARS) return header;
    this.kept.set(text, header);
    return header;
  }
}

/** The RFC 7638 members of a public key fit for `algorithm`, or JWKInvalid. */
function publicMembers(jwk: unknown, algorithm: DeviceAlgorithm): JWK & { kty: string; crv: string; x: string; y?: string } {
  if (!jwk || typeof jwk !== 'object' || Array.isArray(jwk)) throw new errors.JWKInvalid('jwk is not an object');
  const given = jwk as Record<string, unknown>;
  if (PRIVATE_JWK_MEMBERS.some((member) => member in given)) throw new errors.JWKInvalid('jwk holds private key material');
  const { kty, crv } = KEY_TYPES[algorithm];
  if (given.kty !== kty || given.crv !== crv) throw new errors.JWKInvalid(`${algorithm} needs a ${kty} key on ${crv}`);
  const fits = (coordinate: unknown): coordinate is string => typeof coordinate === 'string' && COORDINATE.test(coordinate);
  if (!fits(given.x) || (kty === 'EC' && !fits(given.y))) throw new errors.JWKInvalid('jwk lacks its 32-byte coordinates');
  return kty === 'EC' ? { crv, kty, x: given.x, y: given.y as string } : { crv, kty, x: given.x };
}

/**
 * The protected header of a device's compact JWS of type `typ` (a DPoP proof
 * or a transfer signature): its alg, one a device key may use, and the jwk
 * it may carry. Refused early when it could never verify: jose's JWSInvalid
 * for another typ or a crit extension (RFC 7515 §4.1.11: this verifier knows
 * none), JOSEAlgNotAllowed for another alg.
 */
export function deviceJwsHeader(jws: string, typ: 'dpop+jwt' | 'transfer+jwt'): { alg: DeviceAlgorithm; jwk: unknown } {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(jws);
  } catch {
    throw new errors.JWSInvalid('unreadable header');
  }
  if (header.typ !== typ) throw new errors.JWSInvalid(`typ is not ${typ}`);
  if (!isDeviceAlgorithm(header.alg)) throw new errors.JOSEAlgNotAllowed(`alg is none of ${DPOP_ALGORITHMS.join(', ')}`);
  if (header.crit !== undefined) throw new errors.JWSInvalid('crit names an extension this server does not support');
  return { alg: header.alg, jwk: header.jwk };
}

/**
 * The payload of the compact JWS `jws` (its header checked by
 * deviceJwsHeader, `algorithm` its alg) when `key` signed it; else jose's
 * JWSInvalid, JWSSignatureVerificationFailed or JWTInvalid.
 */
export function verifiedPayload(jws: string, key: DeviceKey, algorithm: DeviceAlgorithm): Record<string, unknown> {
  const parts = jws.split('.');
  if (parts.length !== 3) throw new errors.JWSInvalid('not a compact JWS');
  const [header = '', payload = '', signature = ''] = parts;
  if (KEY_TYPES[algorithm].kty !== key.kty) throw new errors.JOSEAlgNotAllowed(`${algorithm} does not fit a ${key.kty} key`);
  const signatureBytes = Buffer.from(signature, 'base64url');
  // The canonical encoding only: a character whose change leaves the bytes alike (its unused low bits) is still a change.
  if (signatureBytes.length !== SIGNATURE_BYTES || signatureBytes.toString('base64url') !== signature) {
    throw new errors.JWSSignatureVerificationFailed();
  }
  const input = Buffer.from(`${header}.${payload}`);
  const valid = key.kty === 'EC'
    ? verify('sha256', input, { key: key.key, dsaEncoding: 'ieee-p1363' }, signatureBytes)
    : verify(null, input, key.key, signatureBytes);
  if (!valid) throw new errors.JWSSignatureVerificationFailed();
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new errors.JWTInvalid('the payload is not JSON');
  }
  if (!claims || typeof claims !== 'object' || Array.isArray(claims)) throw new errors.JWTInvalid('the payload is not a JSON object');
  return claims as Record<string, unknown>;
}
