// The conventions every route shares (API.md, "Conventions" and "Service routes").
import { expect } from 'chai';
import { createServer } from 'node:http';
import { createApp } from '../../app/app.js';
import { createLogger } from '../../app/logger.js';
import { HostUnavailableError } from '../../db/host.js';
import { Writable } from 'node:stream';
import { resetHost, TEST_SECRET } from '../support/host.js';
import { ALICE, startApp, testConfig, type TestApp } from '../support/app.js';
import { expectProblem } from '../support/expect.js';

describe('HTTP conventions', () => {
  let api: TestApp;
  let token: string;

  before(async () => {
    await resetHost();
    api = await startApp();
    token = await api.login(ALICE.account, ALICE.pin);
  });
  after(() => api.close());

  it('answers an unknown route with 404 not_found as problem+json', async () => {
    expectProblem(await api.request('GET', '/api/nothing-here'), 404, 'not_found');
    expectProblem(await api.request('GET', '/'), 404, 'not_found');
  });

  it('answers a wrong method with 405 and Allow', async () => {
    const response = await api.request('PATCH', '/api/sample/employee/000010', { token });
    expectProblem(response, 405, 'method_not_allowed');
    expect(response.headers.get('allow')).to.include('GET').and.include('PUT').and.include('DELETE');
    const login = await api.request('GET', '/api/auth/login');
    expectProblem(login, 405, 'method_not_allowed');
    expect(login.headers.get('allow')).to.equal('POST');
  });

  it('answers a non-JSON body with 415', async () => {
    const response = await api.request('POST', '/api/auth/login', { rawBody: 'account=100000001&pin=12345', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expectProblem(response, 415, 'unsupported_media_type');
    expectProblem(await api.request('POST', '/api/auth/login', { rawBody: '{"account":"100000001","pin":"12345"}' }), 415, 'unsupported_media_type');
  });

  it('answers malformed JSON with 400 malformed_json', async () => {
    const response = await api.request('POST', '/api/auth/login', { rawBody: '{"account": ', headers: { 'content-type': 'application/json' } });
    expectProblem(response, 400, 'malformed_json');
    expectProblem(await api.request('POST', '/api/auth/login', { rawBody: '"just a string"', headers: { 'content-type': 'application/json' } }), 400, 'malformed_json');
  });

  it('answers a body over 64 KiB with 413, declared or streamed', async () => {
    const big = JSON.stringify({ account: '100000001', pin: '12345', device: 'x'.repeat(70_000) });
    expectProblem(await api.request('POST', '/api/auth/login', { rawBody: big, headers: { 'content-type': 'application/json' } }), 413, 'payload_too_large');
    const stream = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode(big)); c.close(); } });
    const response = await fetch(`${api.url}/api/auth/login`, { method: 'POST', body: stream, headers: { 'content-type': 'application/json' }, duplex: 'half' } as RequestInit);
    expect(response.status).to.equal(413);
  });

  it('accepts a body just under 64 KiB (then validates it)', async () => {
    const body = JSON.stringify({ account: '100000001', pin: '12345', device: 'x'.repeat(60_000) });
    expectProblem(await api.request('POST', '/api/auth/login', { rawBody: body, headers: { 'content-type': 'application/json' } }), 400, 'validation_failed');
  });

  it('gives every response an X-Request-Id, echoing a sane one and replacing an insane one', async () => {
    const fresh = await api.request('GET', '/health/live');
    expect(fresh.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
    const echoed = await api.request('GET', '/health/live', { headers: { 'x-request-id': 'client-abc.123' } });
    expect(echoed.headers.get('x-request-id')).to.equal('client-abc.123');
    const insane = await api.request('GET', '/health/live', { headers: { 'x-request-id': 'a b<script>' } });
    expect(insane.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
    const problem = await api.request('GET', '/nope', { headers: { 'x-request-id': 'trace-1' } });
    expect(problem.body.requestId).to.equal('trace-1');
  });

  it('sends helmet\u2019s security headers on every response, errors included', async () => {
    for (const response of [await api.request('GET', '/health/live'), await api.request('GET', '/nope'), await api.request('GET', '/api/accounts')]) {
      expect(response.headers.get('content-security-policy')).to.equal("default-src 'none';frame-ancestors 'none'");
      expect(response.headers.get('x-content-type-options')).to.equal('nosniff');
      expect(response.headers.get('strict-transport-security')).to.match(/max-age=\d+/);
      expect(response.headers.get('x-frame-options')).to.equal('SAMEORIGIN');
      expect(response.headers.get('x-powered-by')).to.equal(null);
    }
  });

  it('answers /health/live and /health/ready with 200', async () => {
    expect((await api.request('GET', '/health/live')).body).to.deep.equal({ status: 'ok' });
    expect((await api.request('GET', '/health/ready')).body).to.deep.equal({ status: 'ok' });
  });

  it('exports Prometheus metrics: requests by route and status, host calls by name, singleflight and touches', async () => {
    await api.request('GET', '/api/accounts', { token });
    const response = await api.request('GET', '/metrics');
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.match(/^text\/plain/);
    /** The value of the series with these labels, whatever their order. */
    const value = (name: string, labels: Record<string, string>) => {
      const line = response.text.split('\n').find((l) => l.startsWith(`${name}{`)
        && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)) && /pid="\d+"/.test(l));
      return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
    };
    expect(value('http_request_duration_seconds_count', { method: 'GET', route: 'GET /api/accounts', status: '200' })).to.be.at.least(1);
    expect(value('host_calls_total', { name: 'session_resolve', outcome: 'ok' })).to.be.at.least(1);
    expect(value('host_calls_total', { name: 'account.list', outcome: 'ok' })).to.be.at.least(1);
    expect(value('host_call_duration_seconds_count', { name: 'session_resolve' })).to.be.at.least(1);
    expect(value('session_lookups_shared_total', {})).to.be.a('number');
    expect(value('session_touches_total', {})).to.be.a('number');
    expect(response.text).to.match(/^process_resident_memory_bytes/m);
  });

  it('answers 503 host_unavailable with Retry-After when the host is down', async () => {
    const down = await startApp({}, { host: Object.create(api.host, {
      call: { value: async () => { throw new HostUnavailableError('connect ECONNREFUSED 10.0.0.1:5432'); } },
      ping: { value: async () => { throw new HostUnavailableError('connect ECONNREFUSED'); } },
    }) });
    try {
      const ready = await down.request('GET', '/health/ready');
      expectProblem(ready, 503, 'host_unavailable');
      expect(ready.headers.get('retry-after')).to.equal('5');
      const login = await down.request('POST', '/api/auth/login', { body: { account: ALICE.account, pin: ALICE.pin } });
      expectProblem(login, 503, 'host_unavailable');
      expect(login.text).not.to.include('ECONNREFUSED');
    } finally {
      await down.close();
    }
  });

  it('turns an unexpected failure into 500 internal_error with nothing of the cause', async () => {
    const broken = await startApp({}, { host: Object.create(api.host, {
      query: { value: async () => { throw new Error('relation "employee" does not exist at /srv/app/db/pg/server.ts:12'); } },
    }) });
    try {
      const brokenToken = await broken.login(ALICE.account, ALICE.pin);
      const response = await broken.request('GET', '/api/sample/employee/000010', { token: brokenToken });
      expectProblem(response, 500, 'internal_error');
      expect(response.text).not.to.match(/relation|server\.ts|\/srv/);
    } finally {
      await broken.close();
    }
  });

  it('never logs a PIN, a token or an Authorization header', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _encoding, done) { lines.push(String(chunk)); done(); } });
    const app = createApp({ config: testConfig(), host: api.host, secret: TEST_SECRET, logger: createLogger('debug', sink) });
    const server = createServer(app.koa.callback()).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const login = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ account: ALICE.account, pin: ALICE.pin }) });
      const { token: issued } = await login.json() as { token: string };
      await fetch(`${url}/api/accounts`, { headers: { authorization: `Bearer ${issued}` } });
      await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ account: ALICE.account, pin: '87654' }) });
      const log = lines.join('');
      expect(lines.length).to.be.at.least(3);
      expect(log).not.to.include(ALICE.pin);
      expect(log).not.to.include('87654');
      expect(log).not.to.include(issued);
      expect(log).not.to.include(issued.split('.')[2]);
      expect(log.toLowerCase()).not.to.include('bearer');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
