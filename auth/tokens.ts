// Access tokens: a JWT naming only the host session (sid), signed (jose) with
// the current window's key, and for a device-bound session the thumbprint of
// the device key (cnf.jkt, RFC 9449 §6); verification pins the algorithm and
// checks typ, iss, aud, exp, iat and the kid (RFC 8725), in full once per
// token and instance (TokenVerifier).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { SignJWT } from 'jose';
import type { ProblemError } from '../contract/problems.js';
import type { KeyRing } from './keyring.js';
import { RecentlyUsed } from './recently-used.js';
import { tokenRefused, type Scheme } from './refusals.js';

export const TOKEN_ISSUER = 'host-session-api';
export const TOKEN_AUDIENCE = 'host-session-api';
const ALGORITHM = 'HS256';
/** How far ahead of this instance's clock another instance's may run (NTP keeps them far closer). */
const CLOCK_SKEW_SECONDS = 5;
const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const THUMBPRINT = /^[A-Za-z0-9_-]{43}$/;
/** Tokens whose check is remembered; past it, one not presented since the last sweep is forgotten first. */
const REMEMBERED_TOKENS = 10_000;

export interface TokenClaims {
  sessionId: string;
  /** The device key's thumbprint when the session is bound to one (DPoP), else null. */
  jkt: string | null;
}

/** A token that passed the check, with what a DPoP proof made for it names. */
export interface VerifiedToken extends TokenClaims {
  /** base64url(SHA-256(token)): the proof's ath (RFC 9449 §4.2). */
  ath: string;
}

/** base64url(SHA-256(value)): the ath claim, and the form of every digest here. */
export const sha256Base64url = (value: string): string => createHash('sha256').update(value).digest('base64url');

export async function issueToken(keys: KeyRing, claims: TokenClaims, now: Date, expiresAt: Date): Promise<string> {
  const { kid, key } = await keys.current(now);
  return new SignJWT({ sid: claims.sessionId, ...(claims.jkt ? { cnf: { jkt: claims.jkt } } : {}) })
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT', kid })
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setIssuedAt(Math.floor(now.getTime() / 1000))
    .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
    .sign(key);
}

/** The thumbprint a token's cnf names, null when unbound; undefined when cnf is malformed. */
function boundKey(cnf: unknown): string | null | undefined {
  if (cnf === undefined) return null;
  const jkt = cnf && typeof cnf === 'object' && 'jkt' in cnf ? cnf.jkt : undefined;
  return typeof jkt === 'string' && THUMBPRINT.test(jkt) ? jkt : undefined;
}

/** A JOSE segment decoded as a JSON object, or null when it is not one. */
function jsonObject(segment: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : null;
  } catch {
    return null;
  }
}

const COMPACT = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})$/;
const ONLY_HEADER_MEMBERS = new Set(['alg', 'typ', 'kid']);

/**
 * The session (and device key) a valid token names and until when it may be
 * accepted, or its 401 in the scheme it was presented with. Checked with
 * node:crypto's synchronous HMAC (jose's WebCrypto verify costs a thread-pool
 * round trip each time): the algorithm is pinned to HS256 and the header may
 * hold nothing but alg, typ and kid (no crit, no b64, no embedded key: RFC
 * 8725 §3.1), the signature is compared in constant time before any claim is
 * read, then iss, aud, exp, iat and sid.
 */
function checkedToken(keys: KeyRing, token: string, scheme: Scheme, now: Date): { claims: TokenClaims; untilMs: number } {
  const refuse = (reason: string): ProblemError => tokenRefused('invalid_token', scheme, reason);
  const [, headerPart = '', payloadPart = '', signaturePart = ''] = COMPACT.exec(token) ?? [];
  if (!signaturePart) throw refuse('not a compact HS256 JWS');
  const header = jsonObject(headerPart);
  if (!header || header.alg !== ALGORITHM || header.typ !== 'JWT') throw refuse('alg or typ not allowed');
  if (Object.keys(header).some((member) => !ONLY_HEADER_MEMBERS.has(member))) throw refuse('unexpected header member');
  const key = keys.verificationKeyFor(header.kid, now);
  if (!key) throw refuse('unknown or expired kid');
  // Compared as text, not as decoded bytes: the 43rd character's two low bits are padding, and a
  // decoder ignores them, so a byte comparison would take four spellings of one signature.
  const expected = Buffer.from(createHmac('sha256', key.bytes).update(`${headerPart}.${payloadPart}`).digest('base64url'));
  if (!timingSafeEqual(Buffer.from(signaturePart), expected)) throw refuse('bad signature');
  const payload = jsonObject(payloadPart);
  if (!payload) throw refuse('payload is not a JSON object');
  const nowSeconds = now.getTime() / 1000;
  if (payload.iss !== TOKEN_ISSUER) throw refuse('bad iss');
  if (payload.aud !== TOKEN_AUDIENCE && !(Array.isArray(payload.aud) && payload.aud.includes(TOKEN_AUDIENCE))) throw refuse('bad aud');
  if (typeof payload.exp !== 'number' || payload.exp <= nowSeconds) throw refuse('expired');
  // A token from the future is forged or from a broken clock.
  if (typeof payload.iat !== 'number' || payload.iat > nowSeconds + CLOCK_SKEW_SECONDS) throw refuse('iat in the future');
  if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf > nowSeconds + CLOCK_SKEW_SECONDS)) throw refuse('not yet valid');
  if (typeof payload.sid !== 'string' || !SESSION_ID.test(payload.sid)) throw refuse('bad sid');
  const jkt = boundKey(payload.cnf);
  if (jkt === undefined) throw refuse('bad cnf');
  return { claims: { sessionId: payload.sid, jkt }, untilMs: Math.min(payload.exp * 1000, key.acceptedUntilMs) };
}

/**
 * The token check of every protected request. A session presents one token
 * for minutes, so the check is made in full the first time this instance sees
 * a token, and what it found is remembered by the token's exact text until the
 * token could no longer be accepted (its exp, or the end of its key's
 * acceptance, whichever is first); a later presentation is accepted only
 * before then, and checked in full again after it. A refused token is not
 * remembered: a forged one costs the full check each time it is sent.
 */
export class TokenVerifier {
  private readonly remembered = new RecentlyUsed<{ verified: VerifiedToken; untilMs: number }>(REMEMBERED_TOKENS);

  constructor(private readonly keys: KeyRing) {}

  verify(token: string, scheme: Scheme, now: Date): VerifiedToken {
    const known = this.remembered.use(token);
    if (known && now.getTime() < known.untilMs) return known.verified;
    this.remembered.delete(token);
    const { claims, untilMs } = checkedToken(this.keys, token, scheme, now);
    const verified = { ...claims, ath: sha256Base64url(token) };
    this.remembered.set(token, { verified, untilMs });
    return verified;
  }
}
