// Redis for the tests: the machine's shared server (127.0.0.1:6379, REDIS_URL
// in CI) under a key prefix of the test's own, removed afterwards; or a
// server of the test's own (own port, nothing on disk) that it may stop and
// start again under a running API.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { freePort } from '../../scripts/local-service.js';
import { eventually } from './wait.js';

const REDIS_SERVER = 'redis-server';
export const SHARED_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix no other run uses. */
export const testPrefix = (suite: string): string => `test:${suite}:${randomUUID().slice(0, 8)}:`;

/** True when a Redis answers at `url`. */
export async function redisAnswers(url = SHARED_REDIS_URL): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** Deletes every key under `prefix` on `url`. */
export async function removeKeys(prefix: string, url = SHARED_REDIS_URL): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    for await (const keys of client.scanStream({ match: `${prefix}*`, count: 500 })) {
      if ((keys as string[]).length) await client.unlink(...(keys as string[]));
    }
  } finally {
    client.disconnect();
  }
}

export const redisServerInstalled = (): boolean => !spawnSync(REDIS_SERVER, ['--version']).error;

/** A redis-server of the test's own on a loopback port, keeping nothing on disk (as the machine's does). */
export class OwnRedis {
  private child: ChildProcess | null = null;

  private constructor(readonly port: number) {}

  static async start(): Promise<OwnRedis> {
    const server = new OwnRedis(await freePort());
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.child = spawn(REDIS_SERVER, ['--bind', '127.0.0.1', '--port', String(this.port), '--save', '', '--appendonly', 'no', '--dir', '/tmp'],
      { stdio: 'ignore' });
    await eventually(() => redisAnswers(this.url));
  }

  /** Stops it at once (its memory is gone, as after a crash). */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}
