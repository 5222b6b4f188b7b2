// The workers of one node cluster (WORKERS > 1) without Redis: the primary
// process keeps the proofs they accepted and their login counts, and each
// worker asks it over the cluster's IPC channel, so no worker serves a proof
// another has seen. (Across machines, only Redis does that: auth/redis-state.ts.)
import cluster, { type Worker } from 'node:cluster';
import { RateLimiterCluster, RateLimiterClusterMaster } from 'rate-limiter-flexible';
import {
  loginLimiterOptions, loginLimitOf, MemoryReplayCache, SharedStateUnavailable,
  type LimitOptions, type LoginLimit, type ProofUse, type ProofVerdict, type ReplayCache, type SharedState,
} from './shared-state.js';

const CHANNEL = 'host-session-api:proofs';

interface ProofQuestion { channel: typeof CHANNEL; id: number; proof: ProofUse; now: number }
interface ProofAnswer { channel: typeof CHANNEL; id: number; verdict: ProofVerdict }

const isOnChannel = (message: unknown): message is { channel: string; id: number } =>
  typeof message === 'object' && message !== null && (message as { channel?: unknown }).channel === CHANNEL;

/** In the primary: answers every worker's questions from one memory, which began when the primary did. */
export function shareStateWithWorkers(startedAt: Date): void {
  new RateLimiterClusterMaster(); // answers the workers' RateLimiterCluster (rate-limiter-flexible's own channel)
  const replays = new MemoryReplayCache(Math.floor(startedAt.getTime() / 1000));
  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!isOnChannel(message)) return;
    const { id, proof, now } = message as ProofQuestion;
    const answer: ProofAnswer = { channel: CHANNEL, id, verdict: replays.recordNow(proof, now) };
    worker.send(answer);
  });
}

class ClusterReplayCache implements ReplayCache {
  private nextId = 0;
  private readonly waiting = new Map<number, (verdict: ProofVerdict) => void>();

  constructor(private readonly timeoutMs: number) {
    process.on('message', (message: unknown) => {
      if (!isOnChannel(message)) return;
      const { id, verdict } = message as ProofAnswer;
      this.waiting.get(id)?.(verdict);
    });
  }

  record(proof: ProofUse, now: Date): Promise<ProofVerdict> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new SharedStateUnavailable('the cluster primary'));
      }, this.timeoutMs);
      this.waiting.set(id, (verdict) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(verdict);
      });
      const question: ProofQuestion = { channel: CHANNEL, id, proof, now: now.getTime() };
      if (!process.send?.(question)) {
        clearTimeout(timer);
        this.waiting.delete(id);
        reject(new SharedStateUnavailable('the cluster primary'));
      }
    });
  }
}

/** In a worker: both checks answered by the primary. */
export function clusterWorkerState(options: LimitOptions, timeoutMs = 1000): SharedState {
  const limit = loginLimitOf(new RateLimiterCluster({ ...loginLimiterOptions(options), keyPrefix: 'login', timeoutMs }));
  const loginLimit: LoginLimit = (clientAddress) => limit(clientAddress).catch((error: unknown) => {
    throw new SharedStateUnavailable('the cluster primary', { cause: error });
  });
  return {
    replays: new ClusterReplayCache(timeoutMs),
    loginLimit,
    description: `the cluster primary (process ${process.ppid})`,
    fallbacks: () => 0,
    close: async () => undefined,
  };
}
