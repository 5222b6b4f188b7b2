// The fleet's shared security state in Redis (or Valkey): every instance
// records the DPoP proofs it accepts there, and counts login attempts per
// client address there, so a proof is used once and the login limit is one
// limit, however many instances and workers serve.
//
// When Redis does not answer, a proof cannot be checked against the fleet:
// the request is refused (503, SharedStateUnavailable), never served on a
// guess. The login limit falls back to this process's own count (counted in
// `fallbacks`): it is the first line only, and the lockout on the host still
// holds fleet-wide.
import type { Redis, Result } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import {
  loginLimiterOptions, loginLimitOf, SharedStateUnavailable,
  type LimitOptions, type LoginLimit, type ProofUse, type ProofVerdict, type ReplayCache, type SharedState,
} from './shared-state.js';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    recordProof(sinceKey: string, proofKey: string, nowSeconds: number, issuedAt: number, ttlMs: number): Result<string, Context>;
  }
}

/**
 * One round trip, atomic: the memory's start is written by the first record
 * after Redis (re)started (it keeps nothing once restarted), so a proof issued
 * before then is unverifiable rather than accepted; then the proof is set if
 * absent, expiring with the proof.
 */
const RECORD_PROOF = `
redis.call('SET', KEYS[1], ARGV[1], 'NX')
if tonumber(ARGV[2]) < tonumber(redis.call('GET', KEYS[1])) then return 'unverifiable' end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[3]) then return 'first' end
return 'replayed'`;

const VERDICTS: readonly ProofVerdict[] = ['first', 'replayed', 'unverifiable'];

class RedisReplayCache implements ReplayCache {
  constructor(private readonly client: Redis, private readonly prefix: string) {
    client.defineCommand('recordProof', { numberOfKeys: 2, lua: RECORD_PROOF });
  }

  async record(proof: ProofUse, now: Date): Promise<ProofVerdict> {
    const nowMs = now.getTime();
    let answer: string;
    try {
      answer = await this.client.recordProof(`${this.prefix}dpop:since`, `${this.prefix}dpop:${proof.key}`,
        Math.floor(nowMs / 1000), proof.issuedAt, Math.max(1, proof.expiresAt - nowMs));
    } catch (error) {
      throw new SharedStateUnavailable('Redis', { cause: error });
    }
    const verdict = VERDICTS.find((known) => known === answer);
    if (!verdict) throw new SharedStateUnavailable(`Redis (answered ${JSON.stringify(answer)})`);
    return verdict;
  }
}

export interface RedisStateOptions extends LimitOptions {
  /** Every key starts with it: several deployments (or test runs) can share one Redis. */
  keyPrefix: string;
}

export function redisState(client: Redis, options: RedisStateOptions): SharedState {
  let fallbacks = 0;
  const fleet = loginLimitOf(new RateLimiterRedis({
    ...loginLimiterOptions(options), storeClient: client, keyPrefix: `${options.keyPrefix}login`, rejectIfRedisNotReady: true,
  }));
  const local = loginLimitOf(new RateLimiterMemory(loginLimiterOptions(options)));
  const loginLimit: LoginLimit = async (clientAddress) => {
    try {
      return await fleet(clientAddress);
    } catch {
      fallbacks += 1;
      return local(clientAddress);
    }
  };
  return {
    replays: new RedisReplayCache(client, options.keyPrefix),
    loginLimit,
    description: `Redis ${client.options.host ?? ''}:${client.options.port ?? ''} (prefix ${options.keyPrefix})`,
    fallbacks: () => fallbacks,
    close: async () => {
      // QUIT lets Redis finish what it was sent; with Redis away there is nothing to finish.
      if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    },
  };
}
