// The access token check on every protected request (auth/tokens.ts): what it
// accepts, each way a forged or foreign token is refused before any claim is
// trusted, and how long a token it accepted stays accepted without a new check.
import { expect } from 'chai';
import { createHmac } from 'node:crypto';
import { KeyRing } from '../../auth/keyring.js';
import { issueToken, sha256Base64url, TokenVerifier } from '../../auth/tokens.js';
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
  return `${signingInput}.${createHmac('sha256', key.bytes).update(signingInput).digest('base64url')}`;
}

/** What a verifier says of a token at `at`: 'accepted', or the reason of its refusal (a 401 invalid_token). */
function refused(token: string, verifier = new TokenVerifier(keys), at = NOW): string {
  try {
    verifier.verify(token, 'Bearer', at);
    return 'accepted';
  } catch (error) {
    return error instanceof ProblemError && error.code === 'invalid_token' ? String(error.reason) : 'threw';
  }
}

describe('access tokens (auth/tokens.ts)', () => {
  it('accepts what issueToken makes, bearer and bound', async () => {
    const verifier = new TokenVerifier(keys);
    const bearer = await issueToken(keys, { sessionId: SID, jkt: null }, NOW, later);
    expect(verifier.verify(bearer, 'Bearer', NOW)).to.deep.equal({ sessionId: SID, jkt: null, ath: sha256Base64url(bearer) });
    const jkt = 'a'.repeat(43);
    const bound = await issueToken(keys, { sessionId: SID, jkt }, NOW, later);
    expect(verifier.verify(bound, 'DPoP', NOW)).to.deep.equal({ sessionId: SID, jkt, ath: sha256Base64url(bound) });
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

  it('accepts a token it checked before only until its exp, then checks it in full again', async () => {
    const verifier = new TokenVerifier(keys);
    const token = await issueToken(keys, { sessionId: SID, jkt: null }, NOW, new Date(NOW.getTime() + 60_000));
    expect(refused(token, verifier)).to.equal('accepted');
    expect(refused(token, verifier, new Date(NOW.getTime() + 59_999))).to.equal('accepted');
    expect(refused(token, verifier, new Date(NOW.getTime() + 60_000))).to.equal('expired');
    expect(refused(token, verifier, new Date(NOW.getTime() + 30_000))).to.equal('accepted'); // a clock set back is checked again, not remembered as refused
  });

  it('accepts a token it checked before only while its key is still accepted', async () => {
    // Rotation every 60 s, tokens live at most 120 s: a key's tokens are accepted until 180 s after its window began.
    const short = new KeyRing('unit-secret-0123456789abcdefghijklmnopqrstuv', 60, 120);
    const verifier = new TokenVerifier(short);
    const windowStart = new Date(Math.floor(NOW.getTime() / 60_000) * 60_000);
    // An exp past the key's end (a token from a misconfigured instance): the key's end decides.
    const token = await issueToken(short, { sessionId: SID, jkt: null }, windowStart, new Date(windowStart.getTime() + 3600_000));
    expect(refused(token, verifier, windowStart)).to.equal('accepted');
    expect(refused(token, verifier, new Date(windowStart.getTime() + 179_999))).to.equal('accepted');
    expect(refused(token, verifier, new Date(windowStart.getTime() + 180_000))).to.equal('unknown or expired kid');
  });

  it('never remembers a refusal as an acceptance, nor one token for another', async () => {
    const verifier = new TokenVerifier(keys);
    const token = await issueToken(keys, { sessionId: SID, jkt: null }, NOW, later);
    expect(refused(token, verifier)).to.equal('accepted');
    const [h, p, s = ''] = token.split('.');
    const flipped = `${s.slice(0, -2)}${s.at(-2) === 'A' ? 'B' : 'A'}${s.slice(-1)}`;
    expect(refused(`${h}.${p}.${flipped}`, verifier)).to.equal('bad signature');
    expect(refused(`${h}.${p}.${flipped}`, verifier)).to.equal('bad signature');
    expect(refused(token, verifier)).to.equal('accepted');
  });
});
