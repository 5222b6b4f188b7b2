// Access tokens: a JWT naming only the host session (sid), signed with the
// current window's key; verification pins the algorithm and checks typ, iss,
// aud, exp and the kid (RFC 8725).
import { errors, jwtVerify, SignJWT } from 'jose';
import type { KeyRing } from './keyring.js';

export const TOKEN_ISSUER = 'host-session-api';
export const TOKEN_AUDIENCE = 'host-session-api';
const ALGORITHM = 'HS256';
/** How far ahead of this instance's clock another instance's may run (NTP keeps them far closer). */
const CLOCK_SKEW_SECONDS = 5;
const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export async function issueToken(keys: KeyRing, sessionId: string, now: Date, expiresAt: Date): Promise<string> {
  const { kid, key } = await keys.current(now);
  return new SignJWT({ sid: sessionId })
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

/** The session id a valid token names. */
export async function verifyToken(keys: KeyRing, token: string, now: Date): Promise<string> {
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
    return payload.sid;
  } catch (error) {
    if (error instanceof TokenRejected) throw error;
    if (error instanceof errors.JOSEError) throw new TokenRejected(error.code);
    throw new TokenRejected('unreadable token');
  }
}
