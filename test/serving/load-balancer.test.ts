// Two API instances behind nginx with deploy/nginx.conf (Debian's nginx, on
// loopback): login through one instance, logout through the other, and the
// token is dead behind both; device-bound sessions through the balancer.
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../support/wait.js';
import { hostRows, resetHost } from '../support/host.js';
import { freePort } from '../../scripts/local-service.js';
import { ALICE, request, startApp, type TestApp } from '../support/app.js';
import { expectProblem } from '../support/expect.js';
import { TestDevice } from '../support/dpop.js';

const NGINX = '/usr/sbin/nginx';

async function count(api: TestApp, route: string): Promise<number> {
  const text = await api.app.metrics.text();
  return [...text.matchAll(new RegExp(`^http_request_duration_seconds_count\\{[^}]*route="${route.replace(/[/{}]/g, '\\$&')}"[^}]*\\} (\\d+)`, 'gm'))]
    .reduce((n, m) => n + Number(m[1]), 0);
}

describe('two instances behind nginx (deploy/nginx.conf)', function () {
  this.timeout(60_000);
  let dir: string;
  let nginx: ChildProcess | undefined;
  let one: TestApp;
  let two: TestApp;
  let balancer: string;

  before(async function () {
    if (spawnSync(NGINX, ['-v']).error) {
      console.log(`      (skipped: no nginx at ${NGINX}; install Debian's nginx)`);
      this.skip();
    }
    await resetHost();
    // As deploy/docker-compose.yml runs them: one trusted hop, the balancer.
    const env = { TRUST_PROXY: '1', LOGIN_RATE_PER_MINUTE: '3' };
    one = await startApp(env);
    two = await startApp(env, { clock: one.clock });
    dir = mkdtempSync(join(tmpdir(), 'api-nginx-'));
    mkdirSync(join(dir, 'logs'));
    const port = await freePort();
    const config = readFileSync('deploy/nginx.conf', 'utf8')
      .replace(/# @upstreams[^\n]*\n[^\n]*\n[^\n]*\n/, [one, two].map((a) => `    server ${new URL(a.url).host};\n`).join(''))
      .replace(/# @listen\n\s*listen 8080;/, `listen 127.0.0.1:${port};`)
      .replace('worker_processes auto;', `worker_processes 1;\npid ${dir}/nginx.pid;`)
      .replace('access_log off;', `access_log off;\n  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;`);
    writeFileSync(join(dir, 'nginx.conf'), config);
    copyFileSync('deploy/proxy_params.conf', join(dir, 'proxy_params.conf'));
    nginx = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
    balancer = `http://127.0.0.1:${port}`;
    await eventually(async () => (await fetch(`${balancer}/health/live`)).ok);
  });
  after(async () => {
    nginx?.kill('SIGQUIT');
    await one?.close();
    await two?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('logs in through one instance and out through the other; the token dies behind both', async () => {
    const login = await request(balancer, 'POST', '/api/auth/login', { body: { account: ALICE.account, pin: ALICE.pin } });
    expect(login.status).to.equal(201);
    const token = login.body.token as string;
    const loggedInBy = (await count(one, 'POST /api/auth/login')) === 1 ? one : two;
    const other = loggedInBy === one ? two : one;
    expect(await count(other, 'POST /api/auth/login')).to.equal(0);

    const logout = await request(balancer, 'DELETE', '/api/auth/session', { token });
    expect(logout.status).to.equal(204);
    expect(await count(other, 'DELETE /api/auth/session'), 'round robin sent the logout to the other instance').to.equal(1);
    expect(await count(loggedInBy, 'DELETE /api/auth/session')).to.equal(0);

    for (let i = 0; i < 2; i++) { // one request reaches each instance
      expectProblem(await request(balancer, 'GET', '/api/accounts', { token }), 401, 'session_expired');
    }
    expect(await count(one, 'GET /api/accounts') + await count(two, 'GET /api/accounts')).to.equal(2);
    expect(await count(one, 'GET /api/accounts')).to.equal(1);
  });

  it('takes the client address the balancer saw, whatever X-Forwarded-For the client sends', async () => {
    await resetHost();
    one.clock.advance(60); // a fresh rate-limit window on both instances (they share the clock)
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) { // a new forged address each time: an attacker dodging the per-address limit
      const response = await request(balancer, 'POST', '/api/auth/login', {
        body: { account: `80000000${i}`, pin: '00000' }, headers: { 'x-forwarded-for': `203.0.113.${i}` },
      });
      statuses.push(response.status);
    }
    // Three attempts per minute per address on each of the two instances; the rest are 429 from the API.
    expect(statuses.filter((s) => s === 401)).to.have.length(6);
    expect(statuses.filter((s) => s === 429)).to.have.length(2);
    const audited = await hostRows("SELECT DISTINCT client_address FROM audit_log WHERE event = 'login'");
    expect(audited.map((row) => row.client_address)).to.deep.equal(['127.0.0.1']);
  });

  it('serves device-bound sessions: proofs name the address the client used, whatever X-Forwarded-Host it sends', async () => {
    await resetHost();
    one.clock.advance(60);
    const phone = await TestDevice.create();
    /** A request with a proof for `url`, signed again once with the nonce the service asks for. */
    const send = async (method: string, path: string, options: { token?: string; body?: unknown; url?: string; headers?: Record<string, string> } = {}) => {
      const attempt = async () => request(balancer, method, path, {
        body: options.body,
        headers: {
          ...options.headers,
          dpop: await phone.proof({ method, url: options.url ?? `${balancer}${path}`, token: options.token, iat: Math.floor(one.clock.now.getTime() / 1000) }),
          ...(options.token ? { authorization: `DPoP ${options.token}` } : {}),
        },
      });
      let response = await attempt();
      phone.nonce = response.headers.get('dpop-nonce') ?? phone.nonce;
      if (response.status === 401 && response.body.code === 'use_dpop_nonce') response = await attempt();
      return response;
    };
    const login = await send('POST', '/api/auth/login', { body: { account: ALICE.account, pin: ALICE.pin } });
    expect(login.status, login.text).to.equal(201);
    expect(login.body.tokenType).to.equal('DPoP');
    const token = login.body.token as string;
    for (let i = 0; i < 2; i++) { // one request reaches each instance: the nonce of one is good on the other
      const accounts = await send('GET', '/api/accounts', { token });
      expect(accounts.status, accounts.text).to.equal(200);
    }
    expect(await count(one, 'GET /api/accounts')).to.be.at.least(1);
    expect(await count(two, 'GET /api/accounts')).to.be.at.least(1);

    // A proof captured for another site, replayed here with that site's name as the forwarded host.
    const elsewhere = await send('GET', '/api/accounts', { token, url: 'http://bank.example/api/accounts', headers: { 'x-forwarded-host': 'bank.example' } });
    expectProblem(elsewhere, 401, 'invalid_dpop_proof');
  });

  it('keeps /metrics off the public side', async () => {
    expect((await fetch(`${balancer}/metrics`)).status).to.equal(404);
  });
});
