// Resolving the host session behind a token: verify locally first (bad tokens
// never reach the host), then one procedure call. Concurrent requests for the
// same session share that call.
import type { Host } from '../db/host.js';
import { resolveSession, type HostSession, type RequestContext, type ResolveOutcome } from '../db/sessions.js';
import type { KeyRing } from './keyring.js';
import { TokenRejected, verifyToken } from './tokens.js';

export interface SessionPolicy {
  idleSeconds: number;
  /** Write the idle clock at most this often (a fraction of the idle timeout). */
  touchSeconds: number;
}

export type Resolution =
  | { status: 'alive'; session: HostSession }
  | { status: 'invalid_token'; reason: string }
  | { status: 'session_expired' };

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

export class SessionResolver {
  private readonly inFlight = new Map<string, Promise<ResolveOutcome>>();
  /** Lookups answered by another request's call: the singleflight saving. */
  sharedLookups = 0;
  /** Lookups that wrote the host row's idle clock (the host reports lastSeenAt = now when it did). */
  touches = 0;

  constructor(
    private readonly host: Host,
    private readonly keys: KeyRing,
    private readonly policy: SessionPolicy,
  ) {}

  async resolve(authorization: string, context: RequestContext, now: Date): Promise<Resolution> {
    const match = BEARER.exec(authorization);
    if (!match) return { status: 'invalid_token', reason: 'no bearer token' };
    let sessionId: string;
    try {
      sessionId = await verifyToken(this.keys, match[1], now);
    } catch (error) {
      return { status: 'invalid_token', reason: error instanceof TokenRejected ? error.message : 'unreadable' };
    }
    const outcome = await this.lookup(sessionId, context, now);
    if (outcome.status !== 'alive') return { status: 'session_expired' };
    if (outcome.session.lastSeenAt.getTime() === now.getTime()) this.touches += 1;
    return outcome;
  }

  private lookup(sessionId: string, context: RequestContext, now: Date): Promise<ResolveOutcome> {
    const pending = this.inFlight.get(sessionId);
    if (pending) {
      this.sharedLookups += 1;
      return pending;
    }
    const lookup = resolveSession(this.host, {
      ...context, sessionId, now, idleSeconds: this.policy.idleSeconds, touchSeconds: this.policy.touchSeconds,
    }).finally(() => this.inFlight.delete(sessionId));
    this.inFlight.set(sessionId, lookup);
    return lookup;
  }
}
