// The production start: the compiled JavaScript of `npm run build` under plain
// node (no TypeScript loader), with production's defaults, and no
// development tool among the production dependencies.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { spawnPlain, type Child } from '../support/child.js';
import { request } from '../support/app.js';

describe('the production start (compiled JavaScript, NODE_ENV=production)', function () {
  this.timeout(240_000); // a bound for a busy machine; every step waits on an event
  let child: Child | undefined;
  after(async () => {
    child?.kill();
    await child?.exited;
  });

  it('keeps tsx and esbuild out of the production dependencies', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies).not.to.have.any.keys('tsx', 'esbuild', 'typescript');
  });

  it('serves from dist/ under plain node, binding every session to a device by default', async () => {
    execFileSync('npm', ['run', '-s', 'build'], { stdio: 'ignore' });
    child = spawnPlain(['dist/app/server.js'], {
      NODE_ENV: 'production', PORT: '0', DB_URL: 'pglite:memory', METRICS_PORT: '0', LOG_LEVEL: 'info',
      JWT_SECRET: 'compiled-test-secret-0123456789abcdefghij', PIN_PEPPER: 'compiled-test-pepper-0123456789abcdefghij',
      PUBLIC_ORIGIN: 'https://api.bank.example', REDIS_URL: '',
    });
    const listening = JSON.parse(await child.waitFor(/"msg":"listening"/)) as { url: string };
    expect(await child.waitFor(/REDIS_URL is not set/), 'production without Redis says what is shared').to.match(/"level":40/);
    expect((await request(listening.url, 'GET', '/health/ready')).status).to.equal(200);
    const login = await request(listening.url, 'POST', '/api/auth/login', { body: { account: '100000001', pin: '12345' } });
    expect(login.status).to.equal(401);
    expect(login.body.code).to.equal('dpop_required');
    expect((await request(listening.url, 'GET', '/app')).status, 'no demo page in production').to.equal(404);
    child.process.kill('SIGTERM');
    expect(await child.exited).to.equal(0);
  });

  it('builds the embedded host\u2019s template under plain node, as the Docker image does', () => {
    const output = execFileSync('node', ['dist/db/pg/template-cli.js'], { encoding: 'utf8' });
    expect(output).to.match(/^embedded host template (built|present): \S+node_modules\/\.cache\/host-session\/pglite-\d+\.\d+\.\d+\n$/);
  });
});
