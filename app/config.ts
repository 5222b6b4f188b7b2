// Configuration from the environment, validated once at start-up. A bad value
// stops the process with one line naming the variable (ConfigError).
import { cents, twoPlaces } from '../contract/money.js';

export interface Config {
  nodeEnv: 'development' | 'production' | 'test';
  port: number;
  host: string;
  dbUrl: string;
  dbPoolSize: number;
  /** `auto`: start-up applies missing migrations; `check`: it only verifies them (DDL via `npm run db:migrate`). */
  dbMigrate: 'auto' | 'check';
  /** A statement running longer fails (503); enforced by the host. */
  dbStatementTimeoutSeconds: number;
  /** A statement waiting longer for a row lock fails (503). */
  dbLockTimeoutSeconds: number;
  /** How long opening a host connection may take (Db2: TLS and authentication through Db2 Connect), apart from waiting for a pooled one. */
  dbConnectTimeoutSeconds: number;
  /** Unset in development: the server entry generates one and keeps it beside the data. */
  jwtSecret: string | undefined;
  /** The PIN digests' secret, apart from JWT_SECRET so either can rotate alone; unset in development as above. */
  pinPepper: string | undefined;
  /** `required`: every session is bound to a device key (DPoP); `optional`: bearer sessions are served too. */
  sessionBinding: 'optional' | 'required';
  /** Length of a DPoP nonce window; a proof is good for at most two. */
  dpopNonceSeconds: number;
  /** The origin clients address (DPoP htu); required in production, where the request's Host must not choose it. */
  publicOrigin: string | null;
  /** Where the used DPoP proofs and the login counts are shared across instances; null: this instance (and its workers) only. */
  redisUrl: string | null;
  /** Every Redis key starts with it. */
  redisKeyPrefix: string;
  jwtRotationSeconds: number;
  sessionIdleSeconds: number;
  sessionAbsoluteSeconds: number;
  loginMaxFailures: number;
  loginLockSeconds: number;
  loginRatePerMinute: number;
  /** scrypt cost parameter N for PIN digests; part of every stored digest. */
  pinKdfCost: number;
  /** Failed payee checks (unknown or foreign-bank targets) a customer may make per UTC day. */
  payeeCheckMaxFailures: number;
  /** Per customer and UTC day, enforced on the host. Decimal string. */
  transferDailyAmount: string;
  transferDailyCount: number;
  /** Transfers above this amount need the PIN again (decimal string). */
  stepUpAmount: string;
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  workers: number;
  /** Proxies in front of this service whose X-Forwarded-For entries are trusted (0: none, use the socket address). */
  trustProxyHops: number;
  /** /metrics is served on this separate listener only (never on the API port); null: not served. */
  metrics: { host: string; port: number } | null;
  demoData: boolean;
  purgeIntervalSeconds: number;
  auditRetentionDays: number;
  /** A device key that has not logged in for this long is no longer a known device of its account. */
  knownDeviceDays: number;
  logLevel: string;
  /** OpenTelemetry tracing: on when an OTLP endpoint is named (and the SDK not disabled); the exporter reads the rest of OTEL_*. */
  tracing: { serviceName: string } | null;
  /** How long a graceful shutdown waits for in-flight requests before closing their connections. */
  shutdownGraceSeconds: number;
}

export class ConfigError extends Error {
  constructor(readonly variable: string, problem: string) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function choice<T extends string>(env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const found = allowed.find((candidate) => candidate === raw);
  if (found === undefined) throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`);
  return found;
}

/** TRUST_PROXY: false/0 (no proxy), true (one: the load balancer in front), or how many hops to trust. */
function trustedHops(env: Env): number {
  const raw = env.TRUST_PROXY;
  if (raw === 'true') return 1;
  if (raw === 'false') return 0;
  return integer(env, 'TRUST_PROXY', 0, 0, 10);
}

function metricsListener(env: Env): Config['metrics'] {
  if (env.METRICS_PORT === 'off') return null;
  return { host: env.METRICS_HOST || '127.0.0.1', port: integer(env, 'METRICS_PORT', 9464, 0, 65_535) };
}

/** A positive amount of money as a decimal string with at most two places ("10000", "500.00"). */
function money(env: Env, name: string, fallback: string): string {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(Number(cents(raw)) > 0)) throw new ConfigError(name, `must be a positive amount like 500.00, got "${raw}"`);
  return twoPlaces(raw);
}

/** The standard OpenTelemetry variables that switch tracing on or off. */
function tracing(env: Env): Config['tracing'] {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint || boolean(env, 'OTEL_SDK_DISABLED', false) || env.OTEL_TRACES_EXPORTER === 'none') return null;
  if (!/^https?:\/\/[^\s/]+(\/\S*)?$/.test(endpoint)) {
    throw new ConfigError(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT',
      `must be an http(s) URL, got "${endpoint}"`);
  }
  return { serviceName: env.OTEL_SERVICE_NAME || 'host-session-api' };
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

const MIN_SECRET_LENGTH = 32;

/** A secret: required in production, at least MIN_SECRET_LENGTH characters when given. */
function secret(env: Env, name: string, required: boolean): string | undefined {
  const value = env[name] || undefined;
  if (required && !value) throw new ConfigError(name, 'is required when NODE_ENV=production');
  if (value !== undefined && value.length < MIN_SECRET_LENGTH) throw new ConfigError(name, `must be at least ${MIN_SECRET_LENGTH} characters`);
  return value;
}

/** redis://[user:password@]host[:port][/db] or rediss:// (TLS). */
function redisUrl(env: Env): string | null {
  const raw = env.REDIS_URL;
  if (raw === undefined || raw === '') return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('REDIS_URL', 'must be a URL like redis://127.0.0.1:6379 or rediss://cache.internal:6380');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new ConfigError('REDIS_URL', `must start with redis:// or rediss://, got ${url.protocol}//`);
  return raw;
}

/** An origin (scheme, host, optional port, nothing else), e.g. https://api.bank.example. */
function origin(env: Env, name: string): string | null {
  const raw = env[name];
  if (raw === undefined || raw === '') return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be an origin like https://api.example.com, got "${raw}"`);
  }
  if (!/^https?:$/.test(url.protocol) || url.origin + (raw.endsWith('/') ? '/' : '') !== raw) {
    throw new ConfigError(name, `must be an origin like https://api.example.com (no path), got "${raw}"`);
  }
  return url.origin;
}
const DAY = 86_400;

export function loadConfig(env: Env = process.env): Config {
  const nodeEnv = env.NODE_ENV ?? 'development';
  if (nodeEnv !== 'development' && nodeEnv !== 'production' && nodeEnv !== 'test') {
    throw new ConfigError('NODE_ENV', `must be development, production or test, got "${nodeEnv}"`);
  }
  const production = nodeEnv === 'production';

  const jwtSecret = secret(env, 'JWT_SECRET', production);
  const pinPepper = secret(env, 'PIN_PEPPER', production);
  if (jwtSecret !== undefined && jwtSecret === pinPepper) {
    throw new ConfigError('PIN_PEPPER', 'must differ from JWT_SECRET (each rotates on its own)');
  }

  const dbUrl = env.DB_URL || 'pglite:./data/host';
  if (!/^(pglite:|postgres(ql)?:\/\/|db2:\/\/)/.test(dbUrl)) {
    throw new ConfigError('DB_URL', 'must start with pglite:, postgres:// or db2://');
  }

  const tlsCert = env.TLS_CERT || undefined;
  const tlsKey = env.TLS_KEY || undefined;
  if (Boolean(tlsCert) !== Boolean(tlsKey)) {
    throw new ConfigError(tlsCert ? 'TLS_KEY' : 'TLS_CERT', 'must be set together with the other TLS variable');
  }

  const workers = integer(env, 'WORKERS', 1, 1, 64);
  if (workers > 1 && dbUrl.startsWith('pglite:')) {
    throw new ConfigError('WORKERS', 'must be 1 with the embedded PGlite host (one process owns it); use a postgres:// or db2:// host for several workers');
  }

  const sessionIdleSeconds = integer(env, 'SESSION_IDLE_SECONDS', 300, 1, DAY);
  const sessionAbsoluteSeconds = integer(env, 'SESSION_ABSOLUTE_SECONDS', 3600, 1, 30 * DAY);
  if (sessionAbsoluteSeconds < sessionIdleSeconds) {
    throw new ConfigError('SESSION_ABSOLUTE_SECONDS', 'must not be shorter than SESSION_IDLE_SECONDS');
  }

  // In production the origin DPoP proofs are held against is configured, never taken from the request's Host.
  const publicOrigin = origin(env, 'PUBLIC_ORIGIN');
  if (production && !publicOrigin) {
    throw new ConfigError('PUBLIC_ORIGIN', 'is required when NODE_ENV=production: the origin clients address, e.g. https://api.bank.example (DPoP proofs name it)');
  }
  const redisKeyPrefix = env.REDIS_KEY_PREFIX ?? 'host-session-api:';
  if (!/^[\w.:-]{1,64}$/.test(redisKeyPrefix)) throw new ConfigError('REDIS_KEY_PREFIX', 'must be 1 to 64 letters, digits or ._:-');

  const pinKdfCost = integer(env, 'PIN_KDF_COST', 16_384, 1024, 1_048_576);
  if ((pinKdfCost & (pinKdfCost - 1)) !== 0) throw new ConfigError('PIN_KDF_COST', 'must be a power of two');

  return {
    nodeEnv,
    port: integer(env, 'PORT', 8080, 0, 65_535),
    host: env.HOST || '127.0.0.1',
    dbUrl,
    dbPoolSize: integer(env, 'DB_POOL_SIZE', 10, 1, 500),
    // Db2 shops deploy DDL themselves and grant the application EXECUTE only.
    dbMigrate: choice(env, 'DB_MIGRATE', dbUrl.startsWith('db2://') ? 'check' : 'auto', ['auto', 'check'] as const),
    dbStatementTimeoutSeconds: integer(env, 'DB_STATEMENT_TIMEOUT_SECONDS', 10, 1, 3600),
    dbLockTimeoutSeconds: integer(env, 'DB_LOCK_TIMEOUT_SECONDS', 5, 1, 3600),
    dbConnectTimeoutSeconds: integer(env, 'DB_CONNECT_TIMEOUT_SECONDS', 10, 1, 32_767),
    jwtSecret,
    pinPepper,
    sessionBinding: choice(env, 'SESSION_BINDING', production ? 'required' : 'optional', ['optional', 'required'] as const),
    dpopNonceSeconds: integer(env, 'DPOP_NONCE_SECONDS', 60, 5, 3600),
    publicOrigin,
    redisUrl: redisUrl(env),
    redisKeyPrefix,
    jwtRotationSeconds: integer(env, 'JWT_ROTATION_SECONDS', 3600, 1, 30 * DAY),
    sessionIdleSeconds,
    sessionAbsoluteSeconds,
    loginMaxFailures: integer(env, 'LOGIN_MAX_FAILURES', 5, 1, 100),
    loginLockSeconds: integer(env, 'LOGIN_LOCK_SECONDS', 900, 1, 30 * DAY),
    loginRatePerMinute: integer(env, 'LOGIN_RATE_PER_MINUTE', 30, 1, 100_000),
    pinKdfCost,
    payeeCheckMaxFailures: integer(env, 'PAYEE_CHECK_MAX_FAILURES', 10, 1, 10_000),
    transferDailyAmount: money(env, 'TRANSFER_DAILY_AMOUNT', '10000.00'),
    transferDailyCount: integer(env, 'TRANSFER_DAILY_COUNT', 100, 1, 1_000_000),
    stepUpAmount: money(env, 'STEP_UP_AMOUNT', '1000.00'),
    tlsCert,
    tlsKey,
    workers,
    trustProxyHops: trustedHops(env),
    metrics: metricsListener(env),
    demoData: boolean(env, 'DEMO_DATA', !production),
    purgeIntervalSeconds: integer(env, 'PURGE_INTERVAL_SECONDS', 60, 1, DAY),
    auditRetentionDays: integer(env, 'AUDIT_RETENTION_DAYS', 400, 1, 36_500),
    knownDeviceDays: integer(env, 'KNOWN_DEVICE_DAYS', 180, 1, 36_500),
    logLevel: env.LOG_LEVEL || (nodeEnv === 'test' ? 'silent' : 'info'),
    tracing: tracing(env),
    shutdownGraceSeconds: integer(env, 'SHUTDOWN_GRACE_SECONDS', 10, 0, 600),
  };
}
