// The access token check on every protected request (auth/tokens.ts): what it
// accepts, and each way a forged or foreign token is refused before any claim
// is trusted.
import { expect } from 'chai';
import { createHmac } from 'node:crypto';
import { KeyRing } from '../../auth/keyring.js';
import { issueToken, verifyToken } from '../../auth/tokens.js';
import { ProblemError } from '../../contract/problems.js';
import { encodePart, tokenClaims, tokenHeader } from '../support/jwt.js';

const NOW = new Date('2026-11-25T10:00:00Z');
const SID = '0b7e1c52-8d1f-4d6c-9a55-3f2f1d0e9a10';
const keys = new KeyRing('unit-secret-0123456789abcdefghijklmnopqrstuv', 3600, 3600);
const later = new Date(NOW.getTime() + 3600_000);

/** A token signed with the right key over any header and claims. */
function forge(header: Record<string, unknown>, claims: unknown): string {
  const signingInput = `${encodePart(header)}.${encodePart(claims)}`;
  const window = keys.windowAt(NOW);
  const key = keys.verificationKeyFor(String(window), NOW);
  if (!key) throw new Error('no key');
  return `${signingInput}.${createHmac('sha256', key).update(signingInput).digest('base64url')}`;
}

/** What verifyToken says of a token: 'accepted', or the reason of its refusal (a 401 invalid_token). */
function refused(token: string): string {
  try {
    verifyToken(keys, token, 'Bearer', NOW);
    return 'accepted';
  } catch (error) {
    return error instanceof ProblemError && error.code === 'invalid_token' ? String(error.reason) : 'threw';
  }
}

describe('access tokens (auth/tokens.ts)', () => {
  it('accepts what issueToken makes, bearer and bound', async () => {
    const bearer = await issueToken(keys, { sessionId: SID, jkt: null }, NOW, later);
    expect(verifyToken(keys, bearer, 'Bearer', NOW)).to.deep.equal({ sessionId: SID, jkt: null });
    const jkt = 'a'.repeat(43);
    expect(verifyToken(keys, await issueToken(keys, { sessionId: SID, jkt }, NOW, later), 'DPoP', NOW)).to.deep.equal({ sessionId: SID, jkt });
  });

  it('refuses header members beyond alg, typ and kid (crit, b64, an embedded key) and any other algorithm', async () => {
    const token = await issueToken(keys, { sessionId: SID, jkt: null }, NOW, later);
    const header = tokenHeader(token);
    const claims = tokenClaims(token);
    for (const extra of [{ crit: ['b64'], b64: false }, { jwk: { kty: 'oct', k: 'AAAA' } }, { jku: 'https://evil.example/keys' }]) {
      expect(refused(forge({ ...header, ...extra }, claims))).to.equal('unexpected header member');
    }
    for (const alg of ['RS256', 'HS512', 'none', 'hs256']) expect(refused(forge({ ...header, alg }, claims))).to.equal('alg or typ not allowed');
  });

  it('checks the signature in full before it reads a claim', async () => {
    const token = await issueToken(keys, { sessionId: SID, jkt: null }, NOW, later);
    const [h, p, s = ''] = token.split('.');
    const flipped = `${s.slice(0, -2)}${s.at(-2) === 'A' ? 'B' : 'A'}${s.slice(-1)}`;
    expect(refused(`${h}.${p}.${flipped}`)).to.equal('bad signature');
    // The last character's two low bits are padding: another spelling of the same bytes is refused too.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(s.at(-1) ?? '');
    const respelled = `${s.slice(0, -1)}${alphabet[last ^ 1]}`;
    expect(Buffer.from(respelled, 'base64url')).to.deep.equal(Buffer.from(s, 'base64url'));
    expect(refused(`${h}.${p}.${respelled}`)).to.equal('bad signature');
    expect(refused(`${h}.${p}.${s.slice(0, 42)}`)).to.equal('not a compact HS256 JWS');
    expect(refused(`${h}.${encodePart({ ...tokenClaims(token), sid: SID.replace('0b', '1b') })}.${s}`)).to.equal('bad signature');
  });

  it('refuses wrong or missing claims, signed with the right key', async () => {
    const header = { alg: 'HS256', typ: 'JWT', kid: String(keys.windowAt(NOW)) };
    const base = { sid: SID, iss: 'host-session-api', aud: 'host-session-api', iat: NOW.getTime() / 1000, exp: NOW.getTime() / 1000 + 60 };
    expect(refused(forge(header, base))).to.equal('accepted');
    expect(refused(forge(header, { ...base, aud: ['other', 'host-session-api'] }))).to.equal('accepted');
    expect(refused(forge(header, { ...base, exp: NOW.getTime() / 1000 }))).to.equal('expired');
    expect(refused(forge(header, { ...base, exp: undefined }))).to.equal('expired');
    expect(refused(forge(header, { ...base, nbf: NOW.getTime() / 1000 + 600 }))).to.equal('not yet valid');
    expect(refused(forge(header, { ...base, sid: 'x' }))).to.equal('bad sid');
    expect(refused(forge(header, { ...base, cnf: { jkt: 'short' } }))).to.equal('bad cnf');
    expect(refused(forge(header, [1, 2]))).to.equal('payload is not a JSON object');
  });
});
