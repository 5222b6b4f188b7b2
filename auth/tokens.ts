// Access tokens: a JWT naming only the host session (sid), signed with the
// current window's key, and for a device-bound session the thumbprint of the
// device key (cnf.jkt, RFC 9449 §6); verification pins the algorithm and
// checks typ, iss, aud, exp, iat and the kid (RFC 8725).
import { errors, jwtVerify, SignJWT } from 'jose';
import type { KeyRing } from './keyring.js';

export const TOKEN_ISSUER = 'host-session-api';
export const TOKEN_AUDIENCE = 'host-session-api';
const ALGORITHM = 'HS256';
/** How far ahead of this instance's clock another instance's may run (NTP keeps them far closer). */
const CLOCK_SKEW_SECONDS = 5;
const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const THUMBPRINT = /^[A-Za-z0-9_-]{43}$/;

export interface TokenClaims {
  sessionId: string;
  /** The device key's thumbprint when the session is bound to one (DPoP), else null. */
  jkt: string | null;
}

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

/** Thrown for every token that must not be honoured; the reason stays in logs. */
export class TokenRejected extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'TokenRejected';
  }
}

function boundKey(cnf: unknown): string | null {
  if (cnf === undefined) return null;
  const jkt = cnf && typeof cnf === 'object' && 'jkt' in cnf ? cnf.jkt : undefined;
  if (typeof jkt !== 'string' || !THUMBPRINT.test(jkt)) throw new TokenRejected('bad cnf');
  return jkt;
}

/** The session (and device key) a valid token names. */
export async function verifyToken(keys: KeyRing, token: string, now: Date): Promise<TokenClaims> {
  try {
    const { payload } = await jwtVerify(
      token,
      (header) => {
        const key = keys.verificationKeyFor(header.kid, now);
        if (!key) throw new TokenRejected('unknown or expired kid');
        return key;
      },
      {
        algorithms: [ALGORITHM], typ: 'JWT', issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE,
        currentDate: now, requiredClaims: ['sid', 'iat', 'exp'],
      },
    );
    if (typeof payload.sid !== 'string' || !SESSION_ID.test(payload.sid)) throw new TokenRejected('bad sid');
    // jose checks iat only against a maximum age: a token from the future is forged or from a broken clock.
    if (typeof payload.iat !== 'number' || payload.iat > now.getTime() / 1000 + CLOCK_SKEW_SECONDS) throw new TokenRejected('iat in the future');
    return { sessionId: payload.sid, jkt: boundKey(payload.cnf) };
  } catch (error) {
    if (error instanceof TokenRejected) throw error;
    if (error instanceof errors.JOSEError) throw new TokenRejected(error.code);
    throw new TokenRejected('unreadable token');
  }
}
