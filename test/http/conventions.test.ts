// The conventions every route shares (API.md, "Conventions" and "Service routes").
import { expect } from 'chai';
import { createServer } from 'node:http';
import { createApp } from '../../app/app.js';
import { createLogger } from '../../app/logger.js';
import { HostUnavailableError } from '../../db/host.js';
import { Writable } from 'node:stream';
import { hostRows, resetHost, TEST_PIN_PEPPER, TEST_SECRET } from '../support/host.js';
import { ALICE, request, startApp, testConfig, type TestApp } from '../support/app.js';
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
      expect(response.headers.get('x-frame-options')).to.equal('SAMEORIGIN');
      expect(response.headers.get('x-powered-by')).to.equal(null);
    }
  });

  it('sends HSTS on HTTPS responses only (RFC 6797 \u00a77.2), a TLS-terminating balancer\u2019s included', async () => {
    expect((await api.request('GET', '/health/live')).headers.get('strict-transport-security')).to.equal(null);
    const forged = await api.request('GET', '/health/live', { headers: { 'x-forwarded-proto': 'https' } });
    expect(forged.headers.get('strict-transport-security'), 'no trusted proxy: the header is the client\u2019s').to.equal(null);
    const behind = await startApp({ TRUST_PROXY: '1' });
    try {
      const response = await behind.request('GET', '/health/live', { headers: { 'x-forwarded-proto': 'https' } });
      expect(response.headers.get('strict-transport-security')).to.equal('max-age=31536000; includeSubDomains');
    } finally {
      await behind.close();
    }
  });

  it('forbids caching of every /api answer (no-store, and Pragma for HTTP/1.0 proxies), errors included', async () => {
    const answers = [
      await api.request('GET', '/api/accounts', { token }),
      await api.request('GET', '/api/auth/session', { token }),
      await api.request('GET', '/api/sample/employee/000010', { token }),
      await api.request('GET', '/api/sample/employee?limit=2', { token }),
      await api.request('GET', '/api/accounts'),
      await api.request('GET', '/api/nothing-here'),
    ];
    for (const response of answers) {
      expect(response.headers.get('cache-control'), response.text.slice(0, 80)).to.equal('no-store');
      expect(response.headers.get('pragma')).to.equal('no-cache');
    }
  });

  it('takes the client address from the socket, or from the trusted hops of X-Forwarded-For counted from the right', async () => {
    const address = async (env: Record<string, string>, forwarded?: string) => {
      const instance = await startApp({ ...env, LOGIN_RATE_PER_MINUTE: '1000' });
      try {
        const response = await instance.request('POST', '/api/auth/login', {
          body: { account: ALICE.account, pin: '00000' }, headers: forwarded ? { 'x-forwarded-for': forwarded } : {},
        });
        const [row] = await hostRows('SELECT client_address FROM audit_log WHERE request_id = ?', [response.headers.get('x-request-id') ?? '']);
        return row?.client_address;
      } finally {
        await instance.close();
      }
    };
    expect(await address({}, '203.0.113.9')).to.equal('127.0.0.1');
    expect(await address({ TRUST_PROXY: '1' }, '203.0.113.9, 198.51.100.7')).to.equal('198.51.100.7');
    expect(await address({ TRUST_PROXY: '2' }, '203.0.113.9, 198.51.100.7, 10.0.0.2')).to.equal('198.51.100.7');
  });

  it('answers /health/live and /health/ready with 200', async () => {
    expect((await api.request('GET', '/health/live')).body).to.deep.equal({ status: 'ok' });
    expect((await api.request('GET', '/health/ready')).body).to.deep.equal({ status: 'ok' });
  });

  it('exports Prometheus metrics on their own listener: requests by route and status, host calls by name, singleflight and touches', async () => {
    await api.request('GET', '/api/accounts', { token });
    expectProblem(await api.request('GET', '/metrics'), 404, 'not_found'); // never on the API port
    const scraper = createServer(api.app.metricsListener).listen(0, '127.0.0.1');
    await new Promise((resolve) => scraper.once('listening', resolve));
    const metricsUrl = `http://127.0.0.1:${(scraper.address() as { port: number }).port}`;
    const response = await request(metricsUrl, 'GET', '/metrics').finally(() => scraper.close());
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

  it('answers 500 when a procedure answers a status the API does not know: never a guess', async () => {
    const host = api.host;
    const disagreeing = await startApp({}, { host: Object.create(host, {
      call: { value: async (procedure: string, args: Record<string, unknown>, context: unknown) => (procedure === 'logout'
        ? { status: 7 } : host.call(procedure as Parameters<typeof host.call>[0], args as Parameters<typeof host.call>[1], context as Parameters<typeof host.call>[2])) },
    }) });
    try {
      const issued = await disagreeing.login(ALICE.account, ALICE.pin);
      const response = await disagreeing.request('DELETE', '/api/auth/session', { token: issued });
      expectProblem(response, 500, 'internal_error');
      expect(response.text).not.to.match(/logout|status 7/);
    } finally {
      await disagreeing.close();
    }
  });

  it('never logs a PIN, a token or an Authorization header', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _encoding, done) { lines.push(String(chunk)); done(); } });
    const app = createApp({ config: testConfig(), host: api.host, secret: TEST_SECRET, pinPepper: TEST_PIN_PEPPER, logger: createLogger('debug', sink) });
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
      app.dispose();
      server.closeAllConnections();
      server.close();
    }
  });

  it('refuses query parameters on a route that takes none, as unknown fields', async () => {
    for (const [method, path] of [['GET', '/api/accounts'], ['GET', '/api/sample/employee/000010'], ['GET', '/api/auth/sessions']] as const) {
      const response = await api.request(method, `${path}?x=1&y=2`, { token });
      expectProblem(response, 400, 'validation_failed');
      expect(response.body.errors, path).to.deep.equal([{ path: 'query.x', message: 'is not a known field' }, { path: 'query.y', message: 'is not a known field' }]);
      expect((await api.request(method, `${path}?`, { token })).status, `${path}? (an empty query)`).to.equal(200);
    }
  });

  describe('inputs no client may turn into a 500', () => {
    for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      it(`refuses a query parameter named ${key} as an unknown field`, async () => {
        for (const path of ['/api/sample/employee', `/api/accounts/${ALICE.account}/transactions`]) {
          const response = await api.request('GET', `${path}?${key}=x`, { token });
          expectProblem(response, 400, 'validation_failed');
          expect(response.body.errors).to.deep.equal([{ path: `query.${key}`, message: 'is not a known field' }]);
        }
      });

      it(`answers /docs/assets/<version>/${key} with 404, unauthenticated`, async () => {
        const docs = await api.request('GET', '/docs');
        const version = /\/docs\/assets\/([^/]+)\//.exec(docs.text)?.[1];
        expect(version).to.be.a('string');
        expectProblem(await api.request('GET', `/docs/assets/${version}/${key}`), 404, 'not_found');
      });
    }

    it('refuses a body holding a __proto__ key (the JSON parser will not build one)', async () => {
      const response = await api.request('POST', '/api/auth/login', { rawBody: '{"account":"100000001","pin":"12345","__proto__":{"x":1}}', headers: { 'content-type': 'application/json' } });
      expectProblem(response, 400, 'malformed_json');
    });

    it('refuses body fields named constructor or toString as unknown fields', async () => {
      const response = await api.request('POST', '/api/auth/login', { rawBody: '{"account":"100000001","pin":"12345","constructor":1,"toString":2}', headers: { 'content-type': 'application/json' } });
      expectProblem(response, 400, 'validation_failed');
      expect(response.body.errors).to.have.deep.members([
        { path: 'constructor', message: 'is not a known field' }, { path: 'toString', message: 'is not a known field' },
      ]);
    });
  });

  describe('validation errors', () => {
    it('speak the service\u2019s own words, with one path style for body, query, path and header fields', async () => {
      const login = await api.request('POST', '/api/auth/login', { body: { account: 12, pin: null, device: 'x'.repeat(65), extra: 1 } });
      expectProblem(login, 400, 'validation_failed');
      expect(login.body.errors).to.have.deep.members([
        { path: 'account', message: 'must be a string' },
        { path: 'pin', message: 'must not be null' },
        { path: 'device', message: 'must be at most 64 characters' },
        { path: 'extra', message: 'is not a known field' },
      ]);
      const notAnObject = await api.request('POST', '/api/auth/login', { rawBody: '[1]', headers: { 'content-type': 'application/json' } });
      expect(notAnObject.body.errors).to.deep.equal([{ path: '', message: 'must be an object' }]);
      const query = await api.request('GET', '/api/sample/employee?limit=0', { token });
      expect(query.body.errors).to.deep.equal([{ path: 'query.limit', message: 'must be at least 1' }]);
      const path = await api.request('GET', '/api/sample/employee/1', { token });
      expect(path.body.errors).to.deep.equal([{ path: 'path.empno', message: 'must be 6 letters or digits' }]);
      const header = await api.request('POST', '/api/transfers', { token, body: { bankId: 'DEMOBANK1', fromAccount: ALICE.account, toAccount: '200000001', amount: '1.00' } });
      expect(header.body.errors).to.deep.equal([{ path: 'header.Idempotency-Key', message: 'is required' }]);
      for (const response of [login, notAnObject, query, path, header]) {
        expect(response.text).not.to.match(/this must|final value|`/);
      }
    });
  });

  describe('errors outside the error mapper', () => {
    it('are logged with the request id and answered as problem+json, never Koa\u2019s text', async () => {
      const lines: string[] = [];
      const sink = new Writable({ write(chunk, _encoding, done) { lines.push(String(chunk)); done(); } });
      const app = createApp({ config: testConfig(), host: api.host, secret: TEST_SECRET, pinPepper: TEST_PIN_PEPPER, logger: createLogger('info', sink) });
      // A failure in a middleware that runs before the problem-details mapper.
      const afterRequestId = app.koa.middleware.findIndex((middleware) => middleware.name === 'responseHeaders') + 1;
      expect(afterRequestId).to.be.greaterThan(0);
      app.koa.middleware.splice(afterRequestId, 0, async (ctx, next) => { // after the request id, before the error mapper
        if (ctx.path === '/explode') throw new Error('boom at /srv/app/secret.ts:1');
        await next();
      });
      const server = createServer(app.koa.callback()).listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      try {
        const response = await request(`http://127.0.0.1:${(server.address() as { port: number }).port}`, 'GET', '/explode', { headers: { 'x-request-id': 'outside-1' } });
        expectProblem(response, 500, 'internal_error');
        expect(response.body.requestId).to.equal('outside-1');
        const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((entry) => entry.msg === 'request failed outside the error mapper');
        expect(logged?.requestId).to.equal('outside-1');
      } finally {
        app.dispose();
        server.closeAllConnections();
        server.close();
      }
    });
  });
});
