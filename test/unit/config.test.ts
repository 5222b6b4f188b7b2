// Configuration: defaults from API.md, and one clear line naming a bad variable.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { ConfigError, loadConfig } from '../../app/config.js';

describe('configuration', () => {
  it('has the defaults of API.md', () => {
    expect(loadConfig({})).to.include({
      port: 8080, host: '127.0.0.1', dbUrl: 'pglite:./data/host', jwtRotationSeconds: 3600, sessionIdleSeconds: 300,
      sessionAbsoluteSeconds: 3600, loginMaxFailures: 5, loginLockSeconds: 900, loginRatePerMinute: 30, workers: 1,
      nodeEnv: 'development', demoData: true, auditRetentionDays: 400, sessionBinding: 'optional', dpopNonceSeconds: 60,
      publicOrigin: null, dbMigrate: 'auto', trustProxyHops: 0, payeeCheckMaxFailures: 10, transferDailyAmount: '10000.00',
      transferDailyCount: 100, stepUpAmount: '1000.00', dbStatementTimeoutSeconds: 10, dbLockTimeoutSeconds: 5,
    });
    expect(loadConfig({}).metrics).to.deep.equal({ host: '127.0.0.1', port: 9464 });
  });

  it('reads the variables that take a shape of their own', () => {
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxyHops).to.equal(1);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxyHops).to.equal(2);
    expect(loadConfig({ METRICS_PORT: 'off' }).metrics).to.equal(null);
    expect(loadConfig({ STEP_UP_AMOUNT: '250' }).stepUpAmount).to.equal('250.00');
    expect(loadConfig({ PUBLIC_ORIGIN: 'https://api.bank.example' }).publicOrigin).to.equal('https://api.bank.example');
    expect(loadConfig({ DB_URL: 'db2://u:p@h:50000/DB' }).dbMigrate, 'Db2: the DBA runs the DDL').to.equal('check');
    expect(loadConfig({}).tracing, 'tracing is off by default').to.equal(null);
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).tracing).to.deep.equal({ serviceName: 'host-session-api' });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }).tracing).to.equal(null);
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
      expect(() => loadConfig(env)).to.throw(ConfigError).with.property('variable', variable);
    });
  }

  it('in production needs JWT_SECRET, PIN_PEPPER and PUBLIC_ORIGIN, binds every session to a device and turns demo data off', () => {
    const config = loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40), PIN_PEPPER: 'y'.repeat(40), PUBLIC_ORIGIN: 'https://api.bank.example' });
    expect(config).to.include({ demoData: false, sessionBinding: 'required', publicOrigin: 'https://api.bank.example' });
  });

  it('keeps the replay memory and login limit in the process unless REDIS_URL names a Redis', () => {
    expect(loadConfig({})).to.include({ redisUrl: null, redisKeyPrefix: 'host-session-api:' });
    expect(loadConfig({ REDIS_URL: 'rediss://cache.internal:6380/2', REDIS_KEY_PREFIX: 'bank-a:' }))
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
