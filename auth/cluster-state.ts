// The workers of one node cluster (WORKERS > 1) without Redis: the primary
// process keeps the proofs they accepted and their login counts, and each
// worker asks it over the cluster's IPC channel, so no worker serves a proof
// another has seen. (Across machines, only Redis does that: auth/redis-state.ts.)
//
// The questions a worker has by the end of an event-loop turn go as one
// message, and come back as one: under load a message carries several
// proofs, so the channel's cost (a write, a read and a parse at each end)
// is paid per batch, not per request.
import cluster, { type Worker } from 'node:cluster';
import { RateLimiterCluster, RateLimiterClusterMaster } from 'rate-limiter-flexible';
import {
  loginLimiterOptions, loginLimitOf, MemoryReplayCache, SharedStateUnavailable,
  type LimitOptions, type LoginLimit, type ProofUse, type ProofVerdict, type ReplayCache, type SharedState,
} from './shared-state.js';

const CHANNEL = 'host-session-api:proofs';

/** A worker's question, as flat as JSON carries it: its id, then the proof's key, iat and expiry. */
type ProofQuestion = [id: number, key: string, issuedAt: number, expiresAt: number];
interface Questions { channel: typeof CHANNEL; questions: ProofQuestion[] }
interface Answers { channel: typeof CHANNEL; answers: [id: number, verdict: ProofVerdict][] }

const isOnChannel = (message: unknown): boolean =>
  typeof message === 'object' && message !== null && (message as { channel?: unknown }).channel === CHANNEL;

/** In the primary: answers every worker's questions from one memory, which began when the primary did. */
export function shareStateWithWorkers(startedAt: Date): void {
  new RateLimiterClusterMaster(); // answers the workers' RateLimiterCluster (rate-limiter-flexible's own channel)
  const replays = new MemoryReplayCache(Math.floor(startedAt.getTime() / 1000));
  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!isOnChannel(message)) return;
    const { questions } = message as Questions;
    const now = Date.now(); // the primary's clock: one machine's, the workers'
    const answers: Answers = {
      channel: CHANNEL,
      answers: questions.map(([id, key, issuedAt, expiresAt]) => [id, replays.recordNow({ key, issuedAt, expiresAt }, now)]),
    };
    // A worker that died with questions in flight cannot take its answers; an unhandled EPIPE would end the primary.
    if (worker.isConnected()) worker.send(answers, () => {});
  });
}

interface Waiting { resolve: (verdict: ProofVerdict) => void; reject: (error: Error) => void }

class ClusterReplayCache implements ReplayCache {
  private nextId = 0;
  private readonly waiting = new Map<number, Waiting>();
  /** Questions asked in this event-loop turn, sent together when it ends. */
  private unsent: ProofQuestion[] = [];
  /** Each batch's deadline, by its first question's id, until its answers come (one message, in the order asked). */
  private readonly deadlines = new Map<number, NodeJS.Timeout>();

  constructor(private readonly timeoutMs: number) {
    process.on('message', (message: unknown) => {
      if (!isOnChannel(message)) return;
      const { answers } = message as Answers;
      const batch = answers[0]?.[0];
      if (batch !== undefined) {
        // Cleared, not left to run out: a pending timer would keep the batch alive for the whole timeout.
        clearTimeout(this.deadlines.get(batch));
        this.deadlines.delete(batch);
      }
      for (const [id, verdict] of answers) {
        this.waiting.get(id)?.resolve(verdict);
        this.waiting.delete(id);
      }
    });
  }

  record({ key, issuedAt, expiresAt }: ProofUse): Promise<ProofVerdict> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.waiting.set(id, { resolve, reject });
      this.unsent.push([id, key, issuedAt, expiresAt]);
      if (this.unsent.length === 1) setImmediate(() => this.send());
    });
  }

  /** One message for the turn's questions; those the primary has not answered within the timeout fail (503). */
  private send(): void {
    const questions = this.unsent;
    this.unsent = [];
    const fail = () => {
      for (const [id] of questions) {
        this.waiting.get(id)?.reject(new SharedStateUnavailable('the cluster primary'));
        this.waiting.delete(id);
      }
    };
    if (!process.send || !process.connected) {
      fail();
      return;
    }
    // false from send means a backlog, not a loss: the message still goes, and the timeout still bounds the wait.
    process.send({ channel: CHANNEL, questions } satisfies Questions);
    const batch = questions[0]?.[0] ?? -1;
    this.deadlines.set(batch, setTimeout(() => {
      this.deadlines.delete(batch);
      fail();
    }, this.timeoutMs).unref());
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
