// DPoP (RFC 9449): proofs of possession of the device key, checked here on the
// API tier before any host call, with server nonces that need no state shared
// between instances (derived per time window from the master secret) and a
// memory of the proofs already used, shared by every instance that shares the
// replay cache (auth/shared-state.ts). A refused proof is thrown as its 401,
// with the nonce the next proof must carry.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { errors } from 'jose';
import type { ProblemError } from '../contract/problems.js';
import { DeviceKeys, verifiedPayload, type DeviceAlgorithm, type DeviceKey } from './device-keys.js';
import { derivedSecret } from './keyring.js';
import { proofRefused } from './refusals.js';
import type { ReplayCache } from './shared-state.js';

/** How far ahead of this instance's clock a device's may run. */
const CLOCK_SKEW_SECONDS = 5;
const MAX_JTI_LENGTH = 256;

/** What the request says about itself, to hold the proof against. */
export interface ProofTarget {
  method: string;
  /** The request URL as the client addressed it: origin and path (no query). */
  url: string;
  /** The hash of the access token the request carries, which the proof must name (ath); absent at login, where there is none yet. */
  ath?: string;
  now: Date;
}

export interface VerifiedProof {
  /** RFC 7638 SHA-256 thumbprint of the device key. */
  jkt: string;
  /** The device's public key, for checking what else it signed (a transfer). */
  key: DeviceKey;
  algorithm: DeviceAlgorithm;
}

export class DpopVerifier {
  private readonly nonceKey: Buffer;
  /** Each recent window's nonce, and its MAC for comparing in constant time: one HMAC per window, not per request. */
  private readonly nonces = new Map<number, { nonce: string; mac: Buffer }>();
  private readonly keys = new DeviceKeys();

  constructor(secret: string, private readonly windowSeconds: number, private readonly replays: ReplayCache) {
    this.nonceKey = derivedSecret(secret, 'dpop-nonce');
  }

  windowAt(now: Date): number {
    return Math.floor(now.getTime() / 1000 / this.windowSeconds);
  }

  /** The nonce of `now`'s window: the same on every instance, useless once the next window has passed. */
  nonceFor(now: Date): string {
    return this.nonceOf(this.windowAt(now)).nonce;
  }

  private nonceOf(window: number): { nonce: string; mac: Buffer } {
    let known = this.nonces.get(window);
    if (!known) {
      const mac = createHmac('sha256', this.nonceKey).update(String(window)).digest('base64url').slice(0, 22);
      known = { nonce: `${window}.${mac}`, mac: Buffer.from(mac) };
      if (this.nonces.size > 4) this.nonces.clear();
      this.nonces.set(window, known);
    }
    return known;
  }

  /**
   * Checks a DPoP header against the request; throws its 401 (ProblemError),
   * never touches the host. The proof is recorded in the replay cache last,
   * once everything else about it holds.
   */
  async verify(proof: string, target: ProofTarget): Promise<VerifiedProof> {
    const refuse = (reason: string) => this.refusal('invalid_dpop_proof', target.now, reason);
    let alg: DeviceAlgorithm;
    let key: DeviceKey;
    let claims: Record<string, unknown>;
    try {
      ({ alg, key } = this.keys.ofProof(proof));
      claims = verifiedPayload(proof, key, alg);
    } catch (error) {
      throw refuse(error instanceof errors.JOSEError ? `${error.code}: ${error.message}` : 'unreadable proof');
    }
    const { jti, htm, htu, iat, ath, nonce, exp, nbf } = claims;
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH) throw refuse('bad jti');
    if (htm !== target.method) throw refuse(`htm ${quoted(htm)} is not this request's method ${target.method}`);
    // The expected URL names the origin proofs are checked against (PUBLIC_ORIGIN): the usual misconfiguration.
    if (typeof htu !== 'string' || !sameTarget(htu, target.url)) throw refuse(`htu ${quoted(htu)} is not this request's URL ${target.url}`);
    const nowSeconds = target.now.getTime() / 1000;
    // A proof lives at most as long as its nonce: two windows.
    const oldest = 2 * this.windowSeconds + CLOCK_SKEW_SECONDS;
    if (typeof iat !== 'number') throw refuse('iat is not a number');
    if (iat > nowSeconds + CLOCK_SKEW_SECONDS) throw refuse(`iat is ${Math.round(iat - nowSeconds)} s ahead of the server's clock (${CLOCK_SKEW_SECONDS} s allowed)`);
    if (iat < nowSeconds - oldest) throw refuse(`iat is ${Math.round(nowSeconds - iat)} s old (${oldest} s allowed)`);
    // RFC 9449 uses neither; a proof that carries them is held to them (RFC 7519 §4.1.4, §4.1.5).
    if (exp !== undefined && (typeof exp !== 'number' || exp <= nowSeconds)) throw refuse('exp is not in the future');
    if (nbf !== undefined && (typeof nbf !== 'number' || nbf > nowSeconds + CLOCK_SKEW_SECONDS)) throw refuse('nbf is in the future');
    if (target.ath === undefined && ath !== undefined) throw refuse('ath names a token, and the request carries none');
    if (target.ath !== undefined && ath !== target.ath) {
      throw refuse(ath === undefined ? 'ath is missing: the request carries a token' : 'ath does not name the token the request carries');
    }
    if (typeof nonce !== 'string') throw this.refusal('use_dpop_nonce', target.now, 'nonce missing');
    if (!this.validNonce(nonce, target.now)) throw this.refusal('use_dpop_nonce', target.now, `nonce ${quoted(nonce)} is not this window's or the previous one's`);
    await this.useOnce(key.jkt, jti, iat, target.now);
    return { jkt: key.jkt, key, algorithm: alg };
  }

  /**
   * A proof is accepted once, fleet-wide, for as long as it could be accepted
   * at all. A proof seen before (a replay, or a request the load balancer
   * retried after another instance had begun it), or made before the replay
   * memory began, is answered use_dpop_nonce: the device signs a fresh proof
   * and goes on; whoever replays a captured one cannot.
   */
  private async useOnce(jkt: string, jti: string, iat: number, now: Date): Promise<void> {
    const verdict = await this.replays.record({
      key: createHash('sha256').update(`${jkt}:${jti}`).digest('base64url'),
      issuedAt: iat,
      expiresAt: (iat + 2 * this.windowSeconds + 2 * CLOCK_SKEW_SECONDS) * 1000,
    }, now);
    if (verdict === 'replayed') throw this.refusal('use_dpop_nonce', now, 'replayed proof: its jti was used before');
    if (verdict === 'unverifiable') throw this.refusal('use_dpop_nonce', now, 'proof made before the replay memory began');
  }

  /** A 401 for this proof, carrying the nonce of `now`'s window. */
  refusal(code: 'invalid_dpop_proof' | 'use_dpop_nonce' | 'dpop_required', now: Date, reason: string): ProblemError {
    return proofRefused(code, this.nonceFor(now), reason);
  }

  private validNonce(nonce: string, now: Date): boolean {
    const [windowText, mac] = nonce.split('.');
    if (!windowText || !mac || !/^\d{1,12}$/.test(windowText)) return false;
    const window = Number(windowText);
    const current = this.windowAt(now);
    if (window !== current && window !== current - 1) return false;
    const expected = this.nonceOf(window).mac;
    const given = Buffer.from(mac);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}

/** A client's value in a log line: JSON-quoted, at most 120 characters of it. */
function quoted(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text);
}

/** RFC 9449 §4.3: htu matches without query and fragment, after URL normalisation (case, default port). */
function sameTarget(htu: string, url: string): boolean {
  if (htu === url) return true; // as a client writes it almost always: no parsing needed
  try {
    const claimed = new URL(htu);
    const actual = new URL(url);
    return claimed.origin === actual.origin && claimed.pathname === actual.pathname;
  } catch {
    return false;
  }
}
