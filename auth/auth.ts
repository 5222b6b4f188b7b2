// The authentication service the routes use: login (one host call, bound to a
// device key when the client proves one), token issue, session resolution,
// DPoP nonces and the per-address login limit, built once per app.
import type { Tracer } from '@opentelemetry/api';
import { createHmac } from 'node:crypto';
import { v4 as uuidv4 } from 'uuid';
import type { Host } from '../db/host.js';
import { login, type HostSession, type LoginOutcome, type RequestContext } from '../db/sessions.js';
import { DpopRejected, DpopVerifier, type DpopErrorCode, type ProofTarget } from './dpop.js';
import { derivedSecret, KeyRing } from './keyring.js';
import { pinDigesterFor, type PinDigester } from './pin.js';
import { SessionResolver } from './session.js';
import type { SharedState } from './shared-state.js';
import { inSpan } from './spans.js';
import { issueToken } from './tokens.js';

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

/** What the client learns about its session. */
export interface SessionView {
  customerId: string;
  bankId: string;
  role: string;
  /** True when the session is bound to a device key (DPoP). */
  bound: boolean;
  createdAt: Date;
  lastSeenAt: Date;
  idleExpiresAt: Date;
  absoluteExpiresAt: Date;
}

export interface IssuedToken {
  token: string;
  /** OAuth's token_type: how the token is presented (RFC 9449 §5). */
  tokenType: 'Bearer' | 'DPoP';
  expiresAt: Date;
  session: SessionView;
}

export type LoginResult =
  | { status: 'ok'; issued: IssuedToken }
  | Exclude<LoginOutcome, { status: 'ok' }>
  | { status: 'rate_limited'; retryAfterSeconds: number }
  | { status: 'binding_required' }
  | { status: DpopErrorCode; reason: string };

/** Idle clocks are written at most once per fifth of the idle timeout. */
const TOUCH_FRACTION = 5;

export function sessionView(session: HostSession): SessionView {
  const { customerId, bankId, role, createdAt, lastSeenAt, idleExpiresAt, absoluteExpiresAt } = session;
  return { customerId, bankId, role, bound: session.jkt !== null, createdAt, lastSeenAt, idleExpiresAt, absoluteExpiresAt };
}

export class Auth {
  readonly keys: KeyRing;
  readonly sessions: SessionResolver;
  readonly dpop: DpopVerifier;
  readonly pinDigest: PinDigester;
  private readonly sessionHashKey: Buffer;

  /** `shared`: the replay cache and the login limit, as wide as the fleet shares them. */
  constructor(private readonly host: Host, private readonly shared: SharedState, private readonly options: AuthOptions) {
    this.keys = new KeyRing(options.secret, options.rotationSeconds, options.absoluteSeconds);
    this.dpop = new DpopVerifier(options.secret, options.dpopNonceSeconds, shared.replays);
    const tracer = options.tracer ?? null;
    this.sessions = new SessionResolver(host, this.keys, this.dpop, {
      idleSeconds: options.idleSeconds,
      touchSeconds: Math.max(1, Math.floor(options.idleSeconds / TOUCH_FRACTION)),
      binding: options.binding,
    }, tracer);
    const digest = pinDigesterFor(options.pinPepper, options.pinKdfCost);
    this.pinDigest = tracer
      ? (account, pin) => inSpan(tracer, 'pin.kdf', { 'pin.kdf.algorithm': 'scrypt', 'pin.kdf.cost': options.pinKdfCost }, () => digest(account, pin))
      : digest;
    this.sessionHashKey = derivedSecret(options.secret, 'session-hash');
  }

  get binding(): 'optional' | 'required' {
    return this.options.binding;
  }

  /** A keyed hash of a session id: groups a session's audit rows and names it in the device list, without revealing it. */
  sessionHash(sessionId: string): string {
    return createHmac('sha256', this.sessionHashKey).update(sessionId).digest('hex').slice(0, 16);
  }

  /**
   * One host call. A DPoP proof, when sent, is checked first (locally): the
   * session is then bound to its key. The KDF runs for unknown accounts too,
   * so both failures cost the same.
   */
  async login(
    credentials: { account: string; pin: string; device: string | null },
    proof: { header: string; target: Omit<ProofTarget, 'accessToken'> },
    context: RequestContext,
    now: Date,
  ): Promise<LoginResult> {
    const wait = await this.shared.loginLimit(context.clientAddress);
    if (wait > 0) return { status: 'rate_limited', retryAfterSeconds: wait };
    let jkt: string | null = null;
    if (proof.header) {
      try {
        jkt = (await this.dpop.verify(proof.header, proof.target)).jkt;
      } catch (error) {
        if (error instanceof DpopRejected) return { status: error.code, reason: error.message };
        throw error;
      }
    } else if (this.options.binding === 'required') {
      return { status: 'binding_required' };
    }
    const pinDigest = await this.pinDigest(credentials.account, credentials.pin);
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
    if (outcome.status !== 'ok') return outcome;
    const absoluteExpiresAt = new Date(now.getTime() + this.options.absoluteSeconds * 1000);
    const session: SessionView = {
      customerId: outcome.customerId,
      bankId: outcome.bankId,
      role: outcome.role,
      bound: jkt !== null,
      createdAt: now,
      lastSeenAt: now,
      idleExpiresAt: new Date(Math.min(now.getTime() + this.options.idleSeconds * 1000, absoluteExpiresAt.getTime())),
      absoluteExpiresAt,
    };
    return { status: 'ok', issued: await this.issue(sessionId, jkt, session, now) };
  }

  /** A token for an existing session, signed with the current window's key; a bound session stays bound. */
  async issue(sessionId: string, jkt: string | null, session: SessionView, now: Date): Promise<IssuedToken> {
    const token = await issueToken(this.keys, { sessionId, jkt }, now, session.absoluteExpiresAt);
    return { token, tokenType: jkt ? 'DPoP' : 'Bearer', expiresAt: session.absoluteExpiresAt, session };
  }
}
