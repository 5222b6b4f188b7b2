// The security state every instance must agree on beyond the host: which
// DPoP proofs were already used (RFC 9449 §11.1) and how many logins each
// client address tried this minute. One process keeps it in memory; the
// workers of a cluster ask their primary (auth/cluster-state.ts); a fleet
// keeps it in Redis (auth/redis-state.ts). Everything else (sessions,
// lockouts, limits) lives on the host.
import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** A proof to remember until it could no longer be accepted anyway. */
export interface ProofUse {
  /** Names the proof: a digest of its key's thumbprint and its jti. */
  key: string;
  /** The proof's iat (seconds): a proof older than the memory cannot be checked. */
  issuedAt: number;
  /** When its lifetime ends (ms since the epoch); the record may go then. */
  expiresAt: number;
}

/** first: never seen; replayed: seen before; unverifiable: made before the memory began (a restart), so it may have been seen. */
export type ProofVerdict = 'first' | 'replayed' | 'unverifiable';

export interface ReplayCache {
  /** Records the proof and says whether it could be its first use. Throws SharedStateUnavailable when it cannot tell. */
  record(proof: ProofUse, now: Date): Promise<ProofVerdict>;
}

/** Login attempts per client address: resolves to 0 when allowed, else the seconds until the next is. */
export type LoginLimit = (clientAddress: string) => Promise<number>;

export interface SharedState {
  readonly replays: ReplayCache;
  readonly loginLimit: LoginLimit;
  /** For the start-up log: where the state lives. */
  readonly description: string;
  /** Times a check fell back to this process's own memory because the shared store failed. */
  readonly fallbacks: () => number;
  close(): Promise<void>;
}

/** The shared store cannot answer: a check that must hold fleet-wide is refused rather than guessed (503). */
export class SharedStateUnavailable extends Error {
  constructor(store: string, options?: ErrorOptions) {
    super(`${store} did not answer`, options);
    this.name = 'SharedStateUnavailable';
  }
}

/** The proofs this process saw, each kept until its lifetime ends. */
export class MemoryReplayCache implements ReplayCache {
  private readonly seen = new Map<string, number>();
  private nextSweep = 0;

  /** `since`: when this memory began (seconds); a proof issued before it may have been used before a restart. */
  constructor(private readonly since: number) {}

  /** Records held now, swept or not: what the memory costs. */
  get size(): number {
    return this.seen.size;
  }

  async record(proof: ProofUse, now: Date): Promise<ProofVerdict> {
    return this.recordNow(proof, now.getTime());
  }

  /** The synchronous core, for a cluster primary answering its workers. */
  recordNow({ key, issuedAt, expiresAt }: ProofUse, nowMs: number): ProofVerdict {
    if (nowMs >= this.nextSweep) this.sweep(nowMs);
    if (issuedAt < this.since) return 'unverifiable';
    const until = this.seen.get(key);
    if (until !== undefined) {
      if (until > nowMs) return 'replayed';
      this.seen.delete(key); // expired, not yet swept: re-inserted at the end, where its new expiry belongs
    }
    this.seen.set(key, expiresAt);
    return 'first';
  }

  /**
   * Drops the records whose proofs have expired, at most once a second, oldest
   * first, up to the first that is still live. Records are kept in the order
   * they were made and a proof's lifetime is fixed from its iat, so the order
   * is that of their expiry but for the spread of the iats accepted (two nonce
   * windows): a record may outlive its expiry by that much, never be dropped
   * before it. Each sweep costs what it drops, not the whole memory.
   */
  private sweep(nowMs: number): void {
    for (const [key, until] of this.seen) {
      if (until > nowMs) break;
      this.seen.delete(key);
    }
    this.nextSweep = nowMs + 1000;
  }
}

/** rate-limiter-flexible's verdict as seconds to wait: it rejects with a RateLimiterRes when the limit is reached. */
export function loginLimitOf(limiter: RateLimiterAbstract): LoginLimit {
  return async (clientAddress) => {
    try {
      await limiter.consume(clientAddress);
      return 0;
    } catch (refusal) {
      if (refusal instanceof RateLimiterRes) return Math.max(1, Math.ceil(refusal.msBeforeNext / 1000));
      throw refusal;
    }
  };
}

export interface LimitOptions {
  /** Login attempts per client address per minute. */
  loginsPerMinute: number;
}

export const loginLimiterOptions = (options: LimitOptions) => ({ points: options.loginsPerMinute, duration: 60 });

/** One process on its own: both in memory, lost (and so refused as unverifiable, for proofs) on restart. */
export function memoryState(options: LimitOptions, startedAt: Date): SharedState {
  return {
    replays: new MemoryReplayCache(Math.floor(startedAt.getTime() / 1000)),
    loginLimit: loginLimitOf(new RateLimiterMemory(loginLimiterOptions(options))),
    description: 'this process',
    fallbacks: () => 0,
    close: async () => undefined,
  };
}
