// Configuration from the environment, read once at start-up into groups, each
// handed to the one part that uses it (http: the listener; auth: the
// authenticator and the shared state; transfer: the transfer route; db: the
// host; purge: the purge timer; telemetry: logs, metrics, traces). Every
// problem is found before anything is opened and reported at once, one line
// per variable (ConfigError). docs/API.md's table lists every variable read
// here, and a test keeps it so.
import { accessSync, constants } from 'node:fs';
import { cents, twoPlaces } from '../contract/money.js';
import { hostTarget, type HostOptions, type HostTarget } from '../db/host.js';

export interface HttpConfig {
  /** HOST: the address the API listens on. */
  address: string;
  port: number;
  /** PEM files: HTTPS only on the port when set. */
  tls: { certFile: string; keyFile: string } | null;
  /** Proxies in front whose X-Forwarded-For entries are trusted (0: none, the socket's address). */
  trustProxyHops: number;
  /** The origin clients address (DPoP htu); required in production, where the request's Host must not choose it. */
  publicOrigin: string | null;
  /** Node cluster workers; and, in a worker, its index (set by the primary: worker 0 runs the purge). */
  workers: number;
  workerIndex: number | null;
  /** How long a graceful shutdown waits for in-flight requests. */
  shutdownGraceSeconds: number;
}

export interface AuthConfig {
  /** JWT_SECRET and PIN_PEPPER; unset in development, where they are generated and kept beside the data (app/secret.ts). */
  jwtSecret: string | undefined;
  pinPepper: string | undefined;
  /** `required`: every session is bound to a device key (DPoP); `optional`: bearer sessions are served too. */
  binding: 'optional' | 'required';
  dpopNonceSeconds: number;
  rotationSeconds: number;
  idleSeconds: number;
  absoluteSeconds: number;
  maxFailures: number;
  lockSeconds: number;
  loginRatePerMinute: number;
  /** scrypt cost parameter N for PIN digests; part of every stored digest. */
  pinKdfCost: number;
  /** Where used DPoP proofs and login counts are shared across instances; null: this instance (and its workers) only. */
  redisUrl: string | null;
  redisKeyPrefix: string;
}

export interface TransferConfig {
  /** Failed payee checks (unknown or foreign-bank targets) a customer may make per UTC day. */
  payeeMaxFailures: number;
  /** Per customer and UTC day, enforced on the host. Decimal string. */
  dailyAmount: string;
  dailyCount: number;
  /** Transfers above this amount need the PIN again (decimal string). */
  stepUpAmount: string;
}

export interface DbConfig {
  url: string;
  target: HostTarget;
  /** `auto`: start-up applies missing migrations; `check`: it only verifies them (DDL via `npm run db:migrate`). */
  migrate: 'auto' | 'check';
  /** What the host driver is opened with (pool, timeouts in ms). */
  options: Pick<HostOptions, 'poolSize' | 'acquireTimeoutMs' | 'connectTimeoutMs' | 'statementTimeoutMs' | 'lockTimeoutMs'>;
  /** Seed the demo data into a new host (the development default). */
  demoData: boolean;
  /** DEMO_DATA=true given, not defaulted: `npm run db:migrate` seeds only then (never a server host by default). */
  demoDataRequested: boolean;
}

export interface PurgeConfig {
  intervalSeconds: number;
  auditRetentionDays: number;
  /** A device key that has not logged in for this long is no longer a known device of its account. */
  knownDeviceDays: number;
}

export interface TelemetryConfig {
  logLevel: string;
  /** /metrics on a listener of its own (never the API port); null: not served. */
  metrics: { host: string; port: number } | null;
  /** OpenTelemetry tracing: on when an OTLP endpoint is named (the exporter reads the rest of OTEL_*). */
  tracing: { serviceName: string } | null;
}

export interface Config {
  env: 'development' | 'production' | 'test';
  http: HttpConfig;
  auth: AuthConfig;
  transfer: TransferConfig;
  db: DbConfig;
  purge: PurgeConfig;
  telemetry: TelemetryConfig;
}

/** One variable's problem. */
export interface ConfigProblem {
  variable: string;
  problem: string;
}

/** Everything wrong with the configuration, found in one reading: one line per problem. */
export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map(({ variable, problem }) => `${variable}: ${problem}`).join('\n'));
    this.name = 'ConfigError';
  }

  /** The first variable named (a test's shorthand). */
  get variable(): string {
    return this.problems[0]?.variable ?? '';
  }

  /** What start-up prints: one line per problem. */
  lines(): string[] {
    return this.problems.map(({ variable, problem }) => `configuration error: ${variable}: ${problem}`);
  }
}

type Env = Record<string, string | undefined>;

const DAY = 86_400;
const MIN_SECRET_LENGTH = 32;
/** How long a request waits for a pooled host connection before it fails with 503: fail fast, the client retries. */
const ACQUIRE_TIMEOUT_MS = 1000;

/**
 * Reads variables and records what is wrong with them instead of stopping at
 * the first: each reader answers its fallback for a bad value, so reading
 * goes on and every problem is reported in one start.
 */
class Reader {
  readonly problems: ConfigProblem[] = [];

  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value === '' ? undefined : value;
  }

  fail(variable: string, problem: string): void {
    this.problems.push({ variable, problem });
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw)) return this.failed(name, `must be a whole number, got "${raw}"`, fallback);
    const value = Number(raw);
    if (value < min || value > max) return this.failed(name, `must be between ${min} and ${max}, got ${value}`, fallback);
    return value;
  }

  choice<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    return allowed.find((candidate) => candidate === raw) ?? this.failed(name, `must be one of ${allowed.join(', ')}, got "${raw}"`, fallback);
  }

  boolean(name: string, fallback: boolean): boolean {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    return this.failed(name, `must be true or false, got "${raw}"`, fallback);
  }

  /** A positive amount of money as a decimal string with at most two places ("10000", "500.00"). */
  money(name: string, fallback: string): string {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    if (!(Number(cents(raw)) > 0)) return this.failed(name, `must be a positive amount like 500.00, got "${raw}"`, fallback);
    return twoPlaces(raw);
  }

  /** A secret: required in production, at least MIN_SECRET_LENGTH characters when given. */
  secret(name: string, required: boolean): string | undefined {
    const value = this.raw(name);
    if (required && !value) return this.failed(name, 'is required when NODE_ENV=production', undefined);
    if (value !== undefined && value.length < MIN_SECRET_LENGTH) return this.failed(name, `must be at least ${MIN_SECRET_LENGTH} characters`, undefined);
    return value;
  }

  /** An origin (scheme, host, optional port, nothing else), e.g. https://api.bank.example. */
  origin(name: string): string | null {
    const raw = this.raw(name);
    if (raw === undefined) return null;
    const url = URL.canParse(raw) ? new URL(raw) : null;
    if (!url || !/^https?:$/.test(url.protocol) || url.origin + (raw.endsWith('/') ? '/' : '') !== raw) {
      return this.failed(name, `must be an origin like https://api.example.com (no path), got "${raw}"`, null);
    }
    return url.origin;
  }

  /** A file this process can read (a TLS certificate or key), checked now rather than after the host is open. */
  readableFile(name: string): string | undefined {
    const path = this.raw(name);
    if (path === undefined) return undefined;
    try {
      accessSync(path, constants.R_OK);
      return path;
    } catch (error) {
      return this.failed(name, `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`, undefined);
    }
  }

  private failed<T>(variable: string, problem: string, fallback: T): T {
    this.fail(variable, problem);
    return fallback;
  }
}

function nodeEnv(read: Reader): Config['env'] {
  const raw = read.raw('NODE_ENV') ?? 'development';
  if (raw === 'development' || raw === 'production' || raw === 'test') return raw;
  read.fail('NODE_ENV', `must be development, production or test, got "${raw}"`);
  return 'development';
}

function http(read: Reader, production: boolean, target: HostTarget | null): HttpConfig {
  const certFile = read.readableFile('TLS_CERT');
  const keyFile = read.readableFile('TLS_KEY');
  if (Boolean(read.raw('TLS_CERT')) !== Boolean(read.raw('TLS_KEY'))) {
    read.fail(read.raw('TLS_CERT') ? 'TLS_KEY' : 'TLS_CERT', 'must be set together with the other TLS variable');
  }
  const rawHops = read.raw('TRUST_PROXY');
  const trustProxyHops = rawHops === 'true' ? 1 : rawHops === 'false' ? 0 : read.integer('TRUST_PROXY', 0, 0, 10);
  const publicOrigin = read.origin('PUBLIC_ORIGIN');
  // In production the origin DPoP proofs are held against is configured, never taken from the request's Host.
  if (production && !publicOrigin && !read.raw('PUBLIC_ORIGIN')) {
    read.fail('PUBLIC_ORIGIN', 'is required when NODE_ENV=production: the origin clients address, e.g. https://api.bank.example (DPoP proofs name it)');
  }
  const workers = read.integer('WORKERS', 1, 1, 64);
  if (workers > 1 && target?.kind === 'pglite') {
    read.fail('WORKERS', 'must be 1 with the embedded PGlite host (one process owns it); use a postgres:// or db2:// host for several workers');
  }
  const workerIndex = read.raw('WORKER_INDEX') === undefined ? null : read.integer('WORKER_INDEX', 0, 0, 63);
  return {
    address: read.raw('HOST') ?? '127.0.0.1',
    port: read.integer('PORT', 8080, 0, 65_535),
    tls: certFile && keyFile ? { certFile, keyFile } : null,
    trustProxyHops,
    publicOrigin,
    workers,
    workerIndex,
    shutdownGraceSeconds: read.integer('SHUTDOWN_GRACE_SECONDS', 10, 0, 600),
  };
}

function auth(read: Reader, production: boolean): AuthConfig {
  const jwtSecret = read.secret('JWT_SECRET', production);
  const pinPepper = read.secret('PIN_PEPPER', production);
  if (jwtSecret !== undefined && jwtSecret === pinPepper) read.fail('PIN_PEPPER', 'must differ from JWT_SECRET (each rotates on its own)');
  const idleSeconds = read.integer('SESSION_IDLE_SECONDS', 300, 1, DAY);
  const absoluteSeconds = read.integer('SESSION_ABSOLUTE_SECONDS', 3600, 1, 30 * DAY);
  if (absoluteSeconds < idleSeconds) read.fail('SESSION_ABSOLUTE_SECONDS', 'must not be shorter than SESSION_IDLE_SECONDS');
  const pinKdfCost = read.integer('PIN_KDF_COST', 16_384, 1024, 1_048_576);
  if ((pinKdfCost & (pinKdfCost - 1)) !== 0) read.fail('PIN_KDF_COST', 'must be a power of two');
  const redisUrl = read.raw('REDIS_URL') ?? null;
  if (redisUrl !== null && !/^rediss?:$/.test(URL.canParse(redisUrl) ? new URL(redisUrl).protocol : '')) {
    read.fail('REDIS_URL', 'must be a URL like redis://127.0.0.1:6379 or rediss://cache.internal:6380');
  }
  const redisKeyPrefix = read.raw('REDIS_KEY_PREFIX') ?? 'host-session-api:';
  if (!/^[\w.:-]{1,64}$/.test(redisKeyPrefix)) read.fail('REDIS_KEY_PREFIX', 'must be 1 to 64 letters, digits or ._:-');
  return {
    jwtSecret,
    pinPepper,
    binding: read.choice('SESSION_BINDING', production ? 'required' : 'optional', ['optional', 'required'] as const),
    dpopNonceSeconds: read.integer('DPOP_NONCE_SECONDS', 60, 5, 3600),
    rotationSeconds: read.integer('JWT_ROTATION_SECONDS', 3600, 1, 30 * DAY),
    idleSeconds,
    absoluteSeconds,
    maxFailures: read.integer('LOGIN_MAX_FAILURES', 5, 1, 100),
    lockSeconds: read.integer('LOGIN_LOCK_SECONDS', 900, 1, 30 * DAY),
    loginRatePerMinute: read.integer('LOGIN_RATE_PER_MINUTE', 30, 1, 100_000),
    pinKdfCost,
    redisUrl,
    redisKeyPrefix,
  };
}

function db(read: Reader, production: boolean): DbConfig {
  const url = read.raw('DB_URL') ?? 'pglite:./data/host';
  const target = hostTarget(url);
  if (!target) read.fail('DB_URL', 'must start with pglite:, postgres:// or db2://');
  return {
    url,
    target: target ?? { kind: 'pglite', folder: null },
    // Db2 shops deploy DDL themselves and grant the application EXECUTE only.
    migrate: read.choice('DB_MIGRATE', target?.kind === 'db2' ? 'check' : 'auto', ['auto', 'check'] as const),
    options: {
      poolSize: read.integer('DB_POOL_SIZE', 10, 1, 500),
      acquireTimeoutMs: ACQUIRE_TIMEOUT_MS,
      connectTimeoutMs: read.integer('DB_CONNECT_TIMEOUT_SECONDS', 10, 1, 32_767) * 1000,
      statementTimeoutMs: read.integer('DB_STATEMENT_TIMEOUT_SECONDS', 10, 1, 3600) * 1000,
      lockTimeoutMs: read.integer('DB_LOCK_TIMEOUT_SECONDS', 5, 1, 3600) * 1000,
    },
    demoData: read.boolean('DEMO_DATA', !production),
    demoDataRequested: read.raw('DEMO_DATA') !== undefined && read.boolean('DEMO_DATA', false),
  };
}

function telemetry(read: Reader, env: Config['env']): TelemetryConfig {
  const endpoint = read.raw('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ?? read.raw('OTEL_EXPORTER_OTLP_ENDPOINT');
  const off = read.boolean('OTEL_SDK_DISABLED', false) || read.raw('OTEL_TRACES_EXPORTER') === 'none';
  if (endpoint && !off && !/^https?:\/\/[^\s/]+(\/\S*)?$/.test(endpoint)) {
    read.fail(read.raw('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT',
      `must be an http(s) URL, got "${endpoint}"`);
  }
  return {
    logLevel: read.raw('LOG_LEVEL') ?? (env === 'test' ? 'silent' : 'info'),
    metrics: read.raw('METRICS_PORT') === 'off' ? null
      : { host: read.raw('METRICS_HOST') ?? '127.0.0.1', port: read.integer('METRICS_PORT', 9464, 0, 65_535) },
    tracing: endpoint && !off ? { serviceName: read.raw('OTEL_SERVICE_NAME') ?? 'host-session-api' } : null,
  };
}

export function loadConfig(env: Env = process.env): Config {
  const read = new Reader(env);
  const environment = nodeEnv(read);
  const production = environment === 'production';
  const dbConfig = db(read, production);
  const config: Config = {
    env: environment,
    http: http(read, production, hostTarget(dbConfig.url)),
    auth: auth(read, production),
    transfer: {
      payeeMaxFailures: read.integer('PAYEE_CHECK_MAX_FAILURES', 10, 1, 10_000),
      dailyAmount: read.money('TRANSFER_DAILY_AMOUNT', '10000.00'),
      dailyCount: read.integer('TRANSFER_DAILY_COUNT', 100, 1, 1_000_000),
      stepUpAmount: read.money('STEP_UP_AMOUNT', '1000.00'),
    },
    db: dbConfig,
    purge: {
      intervalSeconds: read.integer('PURGE_INTERVAL_SECONDS', 60, 1, DAY),
      auditRetentionDays: read.integer('AUDIT_RETENTION_DAYS', 400, 1, 36_500),
      knownDeviceDays: read.integer('KNOWN_DEVICE_DAYS', 180, 1, 36_500),
    },
    telemetry: telemetry(read, environment),
  };
  if (read.problems.length) throw new ConfigError(read.problems);
  return config;
}
