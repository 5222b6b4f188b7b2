// Two API instances behind nginx with deploy/nginx.conf (Debian's nginx, on
// loopback): login through one instance, logout through the other, and the
// token is dead behind both; device-bound sessions through the balancer; one
// login count per client address for both; only the service's own Host.
import { expect } from 'chai';
import { connect } from 'node:net';
import { hostRows, resetHost } from '../support/host.js';
import { ALICE, request, startApp, TestClock, type TestApp } from '../support/app.js';
import { expectProblem } from '../support/expect.js';
import { TestDevice } from '../support/dpop.js';
import { memoryState } from '../../auth/shared-state.js';
import { fetchFrom } from '../support/fetch-from.js';
import { nginxInstalled, startBalancer, type Balancer } from '../support/nginx.js';

/** Another loopback address than the other tests': its login count is its own. */
const ATTACKER = '127.0.0.3';

const fromAttacker = fetchFrom(ATTACKER);

async function count(api: TestApp, route: string): Promise<number> {
  const text = await api.app.metrics.text();
  return [...text.matchAll(new RegExp(`^http_request_duration_seconds_count\\{[^}]*route="${route.replace(/[/{}]/g, '\\$&')}"[^}]*\\} (\\d+)`, 'gm'))]
    .reduce((n, m) => n + Number(m[1]), 0);
}

describe('two instances behind nginx (deploy/nginx.conf)', function () {
  this.timeout(60_000);
  let nginx: Balancer | undefined;
  let one: TestApp;
  let two: TestApp;
  let balancer: string;

  before(async function () {
    if (!nginxInstalled()) {
      console.log('      (skipped: no nginx at /usr/sbin/nginx; install Debian\'s nginx)');
      this.skip();
    }
    await resetHost();
    // As deploy/docker-compose.yml runs them: one trusted hop, the balancer, and one memory of logins (Redis there).
    const env = { TRUST_PROXY: '1', LOGIN_RATE_PER_MINUTE: '3' };
    const clock = new TestClock();
    const shared = memoryState({ loginsPerMinute: 3 }, clock.now);
    one = await startApp(env, { clock, sharedState: shared });
    two = await startApp(env, { clock, sharedState: shared });
    nginx = await startBalancer([one, two].map((api) => new URL(api.url).host));
    balancer = nginx.url;
  });
  after(async () => {
    await nginx?.stop();
    await one?.close();
    await two?.close();
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

  it('counts logins by the address the balancer saw, across both instances, whatever X-Forwarded-For the client sends', async () => {
    await resetHost();
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) { // a new forged address each time: an attacker dodging the per-address limit
      const sent = await fromAttacker(`${balancer}/api/auth/login`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': `203.0.113.${i}` },
        body: JSON.stringify({ account: `80000000${i}`, pin: '00000' }),
      });
      statuses.push(sent.status);
    }
    // Three attempts per minute per address, counted once for both instances (round robin sent four to each).
    expect(statuses).to.deep.equal([401, 401, 401, 429, 429, 429, 429, 429]);
    expect(await count(one, 'POST /api/auth/login') && await count(two, 'POST /api/auth/login'), 'both instances answered').to.be.greaterThan(0);
    const audited = await hostRows("SELECT DISTINCT client_address FROM audit_log WHERE event = 'login'");
    expect(audited.map((row) => row.client_address)).to.deep.equal([ATTACKER]);
  });

  it('serves device-bound sessions: proofs name the address the client used, whatever X-Forwarded-Host it sends', async () => {
    await resetHost();
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

  it('answers only its server_name: any other Host is closed without an answer, and reaches no instance', async () => {
    const before = await count(one, 'GET /health/live') + await count(two, 'GET /health/live');
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(balancer).port), '127.0.0.1', () => {
        socket.end('GET /health/live HTTP/1.1\r\nHost: bank.example.evil\r\nConnection: close\r\n\r\n');
      });
      let received = '';
      socket.on('data', (chunk) => { received += String(chunk); }).on('close', () => resolve(received)).on('error', reject);
    });
    expect(answer, 'nginx closed the connection without a response (444)').to.equal('');
    expect(await count(one, 'GET /health/live') + await count(two, 'GET /health/live')).to.equal(before);
    expect((await fetch(`${balancer}/health/live`)).status, 'its own name is served').to.equal(200);
  });
});
