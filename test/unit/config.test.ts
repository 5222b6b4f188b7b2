// Configuration: defaults from API.md, and one clear line naming a bad variable.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { ConfigError, loadConfig } from '../../app/config.js';

describe('configuration', () => {
  it('has the defaults of API.md, grouped by who uses them', () => {
    const config = loadConfig({});
    expect(config.env).to.equal('development');
    expect(config.http).to.deep.equal({
      address: '127.0.0.1', port: 8080, tls: null, trustProxyHops: 0, publicOrigin: null, workers: 1, workerIndex: null, shutdownGraceSeconds: 10,
    });
    expect(config.auth).to.deep.equal({
      jwtSecret: undefined, pinPepper: undefined, binding: 'optional', dpopNonceSeconds: 60, rotationSeconds: 3600, idleSeconds: 300,
      absoluteSeconds: 3600, maxFailures: 5, lockSeconds: 900, loginRatePerMinute: 30, pinKdfCost: 16_384, redisUrl: null,
      redisKeyPrefix: 'host-session-api:',
    });
    expect(config.transfer).to.deep.equal({ payeeMaxFailures: 10, dailyAmount: '10000.00', dailyCount: 100, stepUpAmount: '1000.00' });
    expect(config.db).to.deep.equal({
      url: 'pglite:./data/host', target: { kind: 'pglite', folder: './data/host' }, migrate: 'auto',
      options: { poolSize: 10, acquireTimeoutMs: 1000, connectTimeoutMs: 10_000, statementTimeoutMs: 10_000, lockTimeoutMs: 5000 },
      demoData: true, demoDataRequested: false,
    });
    expect(config.purge).to.deep.equal({ intervalSeconds: 60, auditRetentionDays: 400, knownDeviceDays: 180 });
    expect(config.telemetry).to.deep.equal({ logLevel: 'info', metrics: { host: '127.0.0.1', port: 9464 }, tracing: null });
  });

  it('reads the variables that take a shape of their own', () => {
    expect(loadConfig({ TRUST_PROXY: 'true' }).http.trustProxyHops).to.equal(1);
    expect(loadConfig({ TRUST_PROXY: '2' }).http.trustProxyHops).to.equal(2);
    expect(loadConfig({ METRICS_PORT: 'off' }).telemetry.metrics).to.equal(null);
    expect(loadConfig({ STEP_UP_AMOUNT: '250' }).transfer.stepUpAmount).to.equal('250.00');
    expect(loadConfig({ PUBLIC_ORIGIN: 'https://api.bank.example' }).http.publicOrigin).to.equal('https://api.bank.example');
    expect(loadConfig({ DB_URL: 'db2://u:p@h:50000/DB' }).db.migrate, 'Db2: the DBA runs the DDL').to.equal('check');
    expect(loadConfig({ DB_URL: 'pglite:memory' }).db.target).to.deep.equal({ kind: 'pglite', folder: null });
    expect(loadConfig({}).telemetry.tracing, 'tracing is off by default').to.equal(null);
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).telemetry.tracing).to.deep.equal({ serviceName: 'host-session-api' });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }).telemetry.tracing).to.equal(null);
    expect(loadConfig({ DEMO_DATA: 'true' }).db).to.include({ demoData: true, demoDataRequested: true });
  });

  it('reports every problem in one reading: a production start without its secrets, its origin and a readable TLS file names them all', () => {
    let refused: unknown;
    try {
      loadConfig({ NODE_ENV: 'production', TLS_CERT: '/nonexistent/cert.pem', TLS_KEY: '/nonexistent/key.pem', PORT: 'eighty' });
    } catch (error) {
      refused = error;
    }
    expect(refused).to.be.instanceOf(ConfigError);
    expect((refused as ConfigError).lines()).to.deep.equal([
      'configuration error: TLS_CERT: cannot read /nonexistent/cert.pem (ENOENT)',
      'configuration error: TLS_KEY: cannot read /nonexistent/key.pem (ENOENT)',
      'configuration error: PUBLIC_ORIGIN: is required when NODE_ENV=production: the origin clients address, e.g. https://api.bank.example (DPoP proofs name it)',
      'configuration error: PORT: must be a whole number, got "eighty"',
      'configuration error: JWT_SECRET: is required when NODE_ENV=production',
      'configuration error: PIN_PEPPER: is required when NODE_ENV=production',
    ]);
  });

  for (const [env, variable] of [
    [{ PORT: 'eighty' }, 'PORT'], [{ PORT: '70000' }, 'PORT'], [{ DB_URL: 'mysql://x' }, 'DB_URL'],
    [{ NODE_ENV: 'production' }, 'JWT_SECRET'], [{ JWT_SECRET: 'short' }, 'JWT_SECRET'],
    [{ SESSION_IDLE_SECONDS: '600', SESSION_ABSOLUTE_SECONDS: '300' }, 'SESSION_ABSOLUTE_SECONDS'],
    [{ TLS_CERT: 'cert.pem' }, 'TLS_KEY'], [{ WORKERS: '2' }, 'WORKERS'], [{ PIN_KDF_COST: '1000' }, 'PIN_KDF_COST'],
    [{ TRUST_PROXY: 'maybe' }, 'TRUST_PROXY'], [{ NODE_ENV: 'staging' }, 'NODE_ENV'],
    [{ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) }, 'PIN_PEPPER'], [{ PIN_PEPPER: 'short' }, 'PIN_PEPPER'],
    [{ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40), PIN_PEPPER: 'y'.repeat(40) }, 'PUBLIC_ORIGIN'],
    [{ REDIS_URL: 'http://cache:6379' }, 'REDIS_URL'], [{ REDIS_URL: 'not a url' }, 'REDIS_URL'], [{ REDIS_KEY_PREFIX: 'a b' }, 'REDIS_KEY_PREFIX'],
    [{ JWT_SECRET: 'x'.repeat(40), PIN_PEPPER: 'x'.repeat(40) }, 'PIN_PEPPER'], [{ SESSION_BINDING: 'sometimes' }, 'SESSION_BINDING'],
    [{ PUBLIC_ORIGIN: 'https://api.bank.example/v1' }, 'PUBLIC_ORIGIN'], [{ PUBLIC_ORIGIN: 'ftp://x' }, 'PUBLIC_ORIGIN'],
    [{ DB_MIGRATE: 'yes' }, 'DB_MIGRATE'], [{ METRICS_PORT: 'none' }, 'METRICS_PORT'], [{ STEP_UP_AMOUNT: '-5' }, 'STEP_UP_AMOUNT'],
    [{ TRANSFER_DAILY_AMOUNT: '1e9' }, 'TRANSFER_DAILY_AMOUNT'], [{ DPOP_NONCE_SECONDS: '1' }, 'DPOP_NONCE_SECONDS'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318 please' }, 'OTEL_EXPORTER_OTLP_ENDPOINT'],
  ] as const) {
    it(`names ${variable} when ${JSON.stringify(env)}`, () => {
      expect(() => loadConfig(env)).to.throw(ConfigError).that.satisfies(
        (error: ConfigError) => error.problems.some((problem) => problem.variable === variable));
    });
  }

  it('in production needs JWT_SECRET, PIN_PEPPER and PUBLIC_ORIGIN, binds every session to a device and turns demo data off', () => {
    const config = loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40), PIN_PEPPER: 'y'.repeat(40), PUBLIC_ORIGIN: 'https://api.bank.example' });
    expect(config.db.demoData).to.equal(false);
    expect(config.auth.binding).to.equal('required');
    expect(config.http.publicOrigin).to.equal('https://api.bank.example');
  });

  it('keeps the replay memory and login limit in the process unless REDIS_URL names a Redis', () => {
    expect(loadConfig({}).auth).to.include({ redisUrl: null, redisKeyPrefix: 'host-session-api:' });
    expect(loadConfig({ REDIS_URL: 'rediss://cache.internal:6380/2', REDIS_KEY_PREFIX: 'bank-a:' }).auth)
      .to.include({ redisUrl: 'rediss://cache.internal:6380/2', redisKeyPrefix: 'bank-a:' });
  });

  it('stops `npm start` with one line naming the variable and a non-zero exit code', function () {
    this.timeout(30_000);
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'app/server.ts'], {
      env: { ...process.env, PORT: 'eighty' }, encoding: 'utf8', timeout: 25_000,
    });
    expect(result.status).to.equal(2);
    expect(result.stderr.trim().split('\n')).to.deep.equal(['configuration error: PORT: must be a whole number, got "eighty"']);
  });
});
