// Chooses where the fleet's security state lives (auth/shared-state.ts):
// Redis when REDIS_URL names one, the cluster primary for the workers of one
// instance without it, else this process's memory.
import cluster from 'node:cluster';
import { clusterWorkerState } from '../auth/cluster-state.js';
import { redisState } from '../auth/redis-state.js';
import { memoryState, type SharedState } from '../auth/shared-state.js';

export interface SharedStateConfig {
  redisUrl: string | null;
  redisKeyPrefix: string;
  loginRatePerMinute: number;
}

/** How long a Redis command may take before the request it serves is refused (503); Redis answers in well under a millisecond. */
const REDIS_COMMAND_TIMEOUT_MS = 1000;
const REDIS_CONNECT_TIMEOUT_MS = 5000;

/** Connects to Redis (or refuses to start, naming REDIS_URL), or uses the primary or this process. */
export async function openSharedState(config: SharedStateConfig, startedAt: Date): Promise<SharedState> {
  const limits = { loginsPerMinute: config.loginRatePerMinute };
  if (!config.redisUrl) return cluster.isWorker ? clusterWorkerState(limits) : memoryState(limits, startedAt);
  // Loaded only here: ioredis is a hundred modules a start without Redis need not read.
  const { Redis } = await import('ioredis');
  const client = new Redis(config.redisUrl, {
    lazyConnect: true,
    // A command while Redis is away fails at once (the request gets 503), instead of waiting in a queue.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
  });
  client.on('error', () => undefined); // reconnects on its own; each refused request says so where it matters
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    const { host, port } = client.options;
    throw new Error(`REDIS_URL: no Redis answers at ${host ?? ''}:${port ?? ''} (${error instanceof Error ? error.message : String(error)}); `
      + 'start it, or unset REDIS_URL to keep the replay memory and login limit in this process', { cause: error });
  }
  return redisState(client, { ...limits, keyPrefix: config.redisKeyPrefix });
}
