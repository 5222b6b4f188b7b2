// The authentication service the routes use, built once per app, with the
// verbs its callers need and its parts (key ring, session resolver, DPoP
// verifier, PIN KDF) private: log in (one host call, bound to a device key
// when the client proves one), authenticate a protected request, refresh a
// token, digest a step-up PIN, and say the current DPoP nonce. Every refusal
// is thrown as the problem a client sees (contract/problems.ts).
import type { Tracer } from '@opentelemetry/api';
import { createHmac } from 'node:crypto';
import { v4 as uuidv4 } from 'uuid';
import { problem, type ProblemError } from '../contract/problems.js';
import type { Host, RequestContext } from '../db/host.js';
import { login, type HostSession } from '../db/host-sessions.js';
import { DpopVerifier, type ProofTarget } from './dpop.js';
import { derivedSecret, KeyRing } from './keyring.js';
import { pinDigesterFor, type PinDigester } from './pin.js';
import { tokenRefused } from './refusals.js';
import { schemeOf, SessionResolver, type Authenticated, type Presented } from './session-resolver.js';
import type { SharedState } from './shared-state.js';
import { inSpan } from './spans.js';
import { issueToken, TokenVerifier } from './tokens.js';

export interface AuthOptions {
  /** Master secret of the signing keys, DPoP nonces and session hashes. */
  secret: string;
  /** The PIN digests' own secret: rotating `secret` leaves every PIN valid. */
  pinPepper: string;
  rotationSeconds: number;
  idleSeconds: number;
  absoluteSeconds: number;
  maxFailures: number;
  lockSeconds: number;
  pinKdfCost: number;
  binding: 'optional' | 'required';
  dpopNonceSeconds: number;
  /** Spans for token checks, session lookups and the PIN KDF; null: tracing off. */
  tracer?: Tracer | null;
}

/** What the client learns about its session: the host row without its ids, plus whether it is bound. */
export type SessionView = Pick<HostSession, 'customerId' | 'bankId' | 'role' | 'createdAt' | 'lastSeenAt' | 'idleExpiresAt' | 'absoluteExpiresAt'> & {
  /** True when the session is bound to a device key (DPoP). */
  bound: boolean;
};

export interface IssuedToken {
  token: string;
  /** OAuth's token_type: how the token is presented (RFC 9449 §5). */
  tokenType: 'Bearer' | 'DPoP';
  expiresAt: Date;
  session: SessionView;
}

export interface Credentials {
  account: string;
  pin: string;
  /** The device's own label, kept with the session. */
  device: string | null;
}

/** A login's DPoP header (empty when none) and what the request says about itself. */
export interface LoginProof {
  header: string;
  target: Omit<ProofTarget, 'ath'>;
}

export type { Authenticated, Presented };

/** Idle clocks are written at most once per fifth of the idle timeout. */
const TOUCH_FRACTION = 5;

export function sessionView(session: HostSession): SessionView {
  const { customerId, bankId, role, createdAt, lastSeenAt, idleExpiresAt, absoluteExpiresAt } = session;
  return { customerId, bankId, role, bound: session.jkt !== null, createdAt, lastSeenAt, idleExpiresAt, absoluteExpiresAt };
}

/** 401 session_expired for a session found gone part-way through a request, challenged in its own scheme. */
export const sessionGone = (session: HostSession): ProblemError => tokenRefused('session_expired', schemeOf(session), 'session ended meanwhile');

export class Authenticator {
  private readonly keys: KeyRing;
  private readonly resolver: SessionResolver;
  private readonly dpop: DpopVerifier;
  private readonly digest: PinDigester;
  private readonly sessionHashKey: Buffer;

  /** `shared`: the replay cache and the login limit, as wide as the fleet shares them. */
  constructor(private readonly host: Host, private readonly shared: SharedState, private readonly options: AuthOptions) {
    const tracer = options.tracer ?? null;
    this.keys = new KeyRing(options.secret, options.rotationSeconds, options.absoluteSeconds);
    this.dpop = new DpopVerifier(options.secret, options.dpopNonceSeconds, shared.replays);
    this.resolver = new SessionResolver(host, new TokenVerifier(this.keys), this.dpop, {
      idleSeconds: options.idleSeconds,
      touchSeconds: Math.max(1, Math.floor(options.idleSeconds / TOUCH_FRACTION)),
      binding: options.binding,
    }, tracer);
    const digest = pinDigesterFor(options.pinPepper, options.pinKdfCost);
    this.digest = tracer
      ? (account, pin) => inSpan(tracer, 'pin.kdf', { 'pin.kdf.algorithm': 'scrypt', 'pin.kdf.cost': options.pinKdfCost }, () => digest(account, pin))
      : digest;
    this.sessionHashKey = derivedSecret(options.secret, 'session-hash');
  }

  get binding(): 'optional' | 'required' {
    return this.options.binding;
  }

  /** The DPoP nonce of `now`'s window, the same on every instance: every answer to a DPoP request carries it. */
  nonce(now: Date): string {
    return this.dpop.nonceFor(now);
  }

  /** The live host session a protected request's token (and proof) name; throws the 401 that refuses it. */
  authenticate(presented: Presented, context: RequestContext, now: Date): Promise<Authenticated> {
    return this.resolver.resolve(presented, context, now);
  }

  /**
   * One host call. A DPoP proof, when sent, is checked first (locally): the
   * session is then bound to its key. The KDF runs for unknown accounts too,
   * so both failures cost the same. Throws 429 rate_limited, a DPoP refusal,
   * 401 invalid_credentials or 423 account_locked.
   */
  async login(credentials: Credentials, proof: LoginProof, context: RequestContext, now: Date): Promise<IssuedToken> {
    const wait = await this.shared.loginLimit(context.clientAddress);
    if (wait > 0) throw problem('rate_limited', { retryAfter: wait });
    let jkt: string | null = null;
    if (proof.header) jkt = (await this.dpop.verify(proof.header, proof.target)).jkt;
    else if (this.options.binding === 'required') throw this.dpop.refusal('dpop_required', now, 'login without a proof');
    const pinDigest = await this.digest(credentials.account, credentials.pin);
    const sessionId = uuidv4();
    const outcome = await login(this.host, {
      ...context,
      sessionId,
      sessionHash: this.sessionHash(sessionId),
      account: credentials.account,
      pinDigest,
      device: credentials.device,
      jkt,
      now,
      idleSeconds: this.options.idleSeconds,
      absoluteSeconds: this.options.absoluteSeconds,
      maxFailures: this.options.maxFailures,
      lockSeconds: this.options.lockSeconds,
    });
    switch (outcome.status) {
      case 'ok': return this.refresh(outcome.session, now);
      case 'invalid_credentials': throw problem('invalid_credentials');
      case 'locked': throw problem('account_locked', { retryAfter: outcome.retryAfterSeconds });
    }
  }

  /** A token for a live session, signed with the current window's key; a bound session stays bound. */
  async refresh(session: HostSession, now: Date): Promise<IssuedToken> {
    const token = await issueToken(this.keys, { sessionId: session.sessionId, jkt: session.jkt }, now, session.absoluteExpiresAt);
    return { token, tokenType: schemeOf(session), expiresAt: session.absoluteExpiresAt, session: sessionView(session) };
  }

  /** The step-up PIN's digest, as at login (the host compares it). */
  digestPin(account: string, pin: string): Promise<string> {
    return this.digest(account, pin);
  }

  /** Lookups the singleflight shared, and idle-clock writes: for the metrics. */
  stats(): { sharedLookups: number; touches: number } {
    return { sharedLookups: this.resolver.sharedLookups, touches: this.resolver.touches };
  }

  /** A keyed hash of a session id: groups a session's audit rows and names it in the device list, without revealing it. */
  private sessionHash(sessionId: string): string {
    return createHmac('sha256', this.sessionHashKey).update(sessionId).digest('hex').slice(0, 16);
  }
}
