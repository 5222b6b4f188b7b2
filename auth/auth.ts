// The authentication service the routes use: login (one host call), token
// issue, session resolution and the per-address login limit, built once per app.
import { createHmac } from 'node:crypto';
import { v4 as uuidv4 } from 'uuid';
import type { Host } from '../db/host.js';
import { login, type HostSession, type LoginOutcome, type RequestContext } from '../db/sessions.js';
import { derivedSecret, KeyRing } from './keyring.js';
import { pinDigesterFor, type PinDigester } from './pin.js';
import { RateLimiter } from './rate-limit.js';
import { SessionResolver } from './session.js';
import { issueToken } from './tokens.js';

export interface AuthOptions {
  secret: string;
  rotationSeconds: number;
  idleSeconds: number;
  absoluteSeconds: number;
  maxFailures: number;
  lockSeconds: number;
  pinKdfCost: number;
  loginRatePerMinute: number;
}

/** What the client learns about its session. */
export interface SessionView {
  customerId: string;
  bankId: string;
  role: string;
  createdAt: Date;
  lastSeenAt: Date;
  idleExpiresAt: Date;
  absoluteExpiresAt: Date;
}

export interface IssuedToken {
  token: string;
  tokenType: 'Bearer';
  expiresAt: Date;
  session: SessionView;
}

export type LoginResult =
  | { status: 'ok'; issued: IssuedToken }
  | Exclude<LoginOutcome, { status: 'ok' }>
  | { status: 'rate_limited'; retryAfterSeconds: number };

/** Idle clocks are written at most once per fifth of the idle timeout. */
const TOUCH_FRACTION = 5;

export function sessionView(session: HostSession): SessionView {
  const { customerId, bankId, role, createdAt, lastSeenAt, idleExpiresAt, absoluteExpiresAt } = session;
  return { customerId, bankId, role, createdAt, lastSeenAt, idleExpiresAt, absoluteExpiresAt };
}

export class Auth {
  readonly keys: KeyRing;
  readonly sessions: SessionResolver;
  readonly pinDigest: PinDigester;
  private readonly limiter: RateLimiter;
  private readonly sessionHashKey: Buffer;

  constructor(private readonly host: Host, private readonly options: AuthOptions) {
    this.keys = new KeyRing(options.secret, options.rotationSeconds, options.absoluteSeconds);
    this.sessions = new SessionResolver(host, this.keys, {
      idleSeconds: options.idleSeconds,
      touchSeconds: Math.max(1, Math.floor(options.idleSeconds / TOUCH_FRACTION)),
    });
    this.pinDigest = pinDigesterFor(options.secret, options.pinKdfCost);
    this.limiter = new RateLimiter(options.loginRatePerMinute);
    this.sessionHashKey = derivedSecret(options.secret, 'session-hash');
  }

  /** A keyed hash of a session id: groups a session's audit rows without revealing it. */
  sessionHash(sessionId: string): string {
    return createHmac('sha256', this.sessionHashKey).update(sessionId).digest('hex').slice(0, 16);
  }

  async login(
    credentials: { account: string; pin: string; device: string | null },
    context: RequestContext,
    now: Date,
  ): Promise<LoginResult> {
    const wait = this.limiter.attempt(context.clientAddress, now);
    if (wait > 0) return { status: 'rate_limited', retryAfterSeconds: wait };
    // The KDF runs for unknown accounts too, so both failures cost the same.
    const pinDigest = await this.pinDigest(credentials.account, credentials.pin);
    const sessionId = uuidv4();
    const outcome = await login(this.host, {
      ...context,
      sessionId,
      sessionHash: this.sessionHash(sessionId),
      account: credentials.account,
      pinDigest,
      device: credentials.device,
      jkt: null,
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
      createdAt: now,
      lastSeenAt: now,
      idleExpiresAt: new Date(Math.min(now.getTime() + this.options.idleSeconds * 1000, absoluteExpiresAt.getTime())),
      absoluteExpiresAt,
    };
    return { status: 'ok', issued: await this.issue(sessionId, session, now) };
  }

  /** A token for an existing session, signed with the current window's key. */
  async issue(sessionId: string, session: SessionView, now: Date): Promise<IssuedToken> {
    const token = await issueToken(this.keys, sessionId, now, session.absoluteExpiresAt);
    return { token, tokenType: 'Bearer', expiresAt: session.absoluteExpiresAt, session };
  }
}
