// Configuration: defaults from API.md, and one clear line naming a bad variable.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { ConfigError, loadConfig } from '../../app/config.js';

describe('configuration', () => {
  it('has the defaults of API.md', () => {
    expect(loadConfig({})).to.include({
      port: 8080, host: '127.0.0.1', dbUrl: 'pglite:./data/host', jwtRotationSeconds: 3600, sessionIdleSeconds: 300,
      sessionAbsoluteSeconds: 3600, loginMaxFailures: 5, loginLockSeconds: 900, loginRatePerMinute: 30, workers: 1,
      nodeEnv: 'development', demoData: true, auditRetentionDays: 400,
    });
  });

  for (const [env, variable] of [
    [{ PORT: 'eighty' }, 'PORT'], [{ PORT: '70000' }, 'PORT'], [{ DB_URL: 'mysql://x' }, 'DB_URL'],
    [{ NODE_ENV: 'production' }, 'JWT_SECRET'], [{ JWT_SECRET: 'short' }, 'JWT_SECRET'],
    [{ SESSION_IDLE_SECONDS: '600', SESSION_ABSOLUTE_SECONDS: '300' }, 'SESSION_ABSOLUTE_SECONDS'],
    [{ TLS_CERT: 'cert.pem' }, 'TLS_KEY'], [{ WORKERS: '2' }, 'WORKERS'], [{ PIN_KDF_COST: '1000' }, 'PIN_KDF_COST'],
    [{ TRUST_PROXY: 'maybe' }, 'TRUST_PROXY'], [{ NODE_ENV: 'staging' }, 'NODE_ENV'],
  ] as const) {
    it(`names ${variable} when ${JSON.stringify(env)}`, () => {
      expect(() => loadConfig(env)).to.throw(ConfigError).with.property('variable', variable);
    });
  }

  it('in production needs JWT_SECRET and turns demo data off', () => {
    const config = loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) });
    expect(config.demoData).to.equal(false);
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
