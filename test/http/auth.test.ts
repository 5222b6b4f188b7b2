// Session-on-host authentication: login, lockout, token checks, rotation,
// several instances, logout, scratch pad and purge.
import { expect } from 'chai';
import { SignJWT } from 'jose';
import { until } from '../support/wait.js';
import { KeyRing } from '../../auth/keyring.js';
import { memoryState, type ReplayCache, type SharedState } from '../../auth/shared-state.js';
import type { Host } from '../../db/host.js';
import { purgeExpired, resolveSession } from '../../db/host-sessions.js';
import { hostRow, hostRows, resetHost, TEST_SECRET } from '../support/host.js';
import { ALICE, BOB, CAROL, STAFF, startApp, type TestApp } from '../support/app.js';
import { TestDevice } from '../support/dpop.js';
import { expectProblem } from '../support/expect.js';
import { decodePart, encodePart, tokenClaims, tokenHeader, tokenParts } from '../support/jwt.js';


function expectInvalidToken(response: Awaited<ReturnType<TestApp['request']>>, code = 'invalid_token'): void {
  expectProblem(response, 401, code);
  expect(response.headers.get('www-authenticate')).to.equal('Bearer error="invalid_token"');
}

describe('session-on-host authentication', () => {
  let api: TestApp;
  /** The signing keys the app derives from the test secret: tests forge tokens with them. */
  const keys = new KeyRing(TEST_SECRET, 3600, 3600);

  beforeEach(async () => {
    await resetHost();
    api = await startApp({ LOGIN_MAX_FAILURES: '3', LOGIN_LOCK_SECONDS: '600' });
  });
  afterEach(() => api.close());

  describe('POST /api/auth/login', () => {
    it('creates a host session and returns a token naming only it', async () => {
      const response = await api.request('POST', '/api/auth/login', { body: { account: ALICE.account, pin: ALICE.pin, device: 'iPhone 15' } });
      expect(response.status).to.equal(201);
      expect(response.headers.get('cache-control')).to.equal('no-store');
      const { token, tokenType, expiresAt, session } = response.body;
      expect(tokenType).to.equal('Bearer');
      expect(session).to.deep.equal({
        customerId: 'C001', bankId: 'DEMOBANK1', role: 'customer', bound: false,
        createdAt: '2026-11-25T10:00:00.000Z', lastSeenAt: '2026-11-25T10:00:00.000Z',
        idleExpiresAt: '2026-11-25T10:05:00.000Z', absoluteExpiresAt: '2026-11-25T11:00:00.000Z',
      });
      expect(expiresAt).to.equal('2026-11-25T11:00:00.000Z');
      const header = tokenHeader(token);
      const payload = tokenClaims(token);
      expect(header).to.deep.equal({ alg: 'HS256', typ: 'JWT', kid: String(Math.floor(api.clock.now.getTime() / 1000 / 3600)) });
      expect(Object.keys(payload).sort()).to.deep.equal(['aud', 'exp', 'iat', 'iss', 'sid']);
      expect(payload.sid).to.match(/^[0-9a-f-]{36}$/);
      expect(JSON.stringify(payload)).not.to.include(ALICE.account);
      const me = await api.request('GET', '/api/auth/session', { token });
      expect(me.status).to.equal(200);
      expect(me.body).to.deep.equal(session);
    });

    it('gives wrong PIN and unknown account the same 401 invalid_credentials', async () => {
      const wrongPin = await api.request('POST', '/api/auth/login', { body: { account: ALICE.account, pin: '00000' } });
      const unknown = await api.request('POST', '/api/auth/login', { body: { account: '123456789', pin: '00000' } });
      expectProblem(wrongPin, 401, 'invalid_credentials');
      expectProblem(unknown, 401, 'invalid_credentials');
      const shape = (body: Record<string, unknown>) => ({ ...body, requestId: undefined });
      expect(shape(wrongPin.body)).to.deep.equal(shape(unknown.body));
      expect(wrongPin.headers.get('www-authenticate')).to.equal(null);
    });

    for (const [what, body] of [
      ['a 5-digit account', { account: '12345', pin: '1234' }],
      ['a 21-digit account', { account: '1'.repeat(21), pin: '1234' }],
      ['a 3-digit PIN', { account: ALICE.account, pin: '123' }],
      ['a PIN with letters', { account: ALICE.account, pin: '12a45' }],
      ['a numeric PIN', { account: ALICE.account, pin: 12345 }],
      ['no PIN', { account: ALICE.account }],
      ['an unknown field', { account: ALICE.account, pin: ALICE.pin, admin: true }],
    ] as const) {
      it(`is 400 for ${what}, before any host call`, async () => {
        const before = api.host.stats().total;
        expectProblem(await api.request('POST', '/api/auth/login', { body }), 400, 'validation_failed');
        expect(api.host.stats().total).to.equal(before);
      });
    }
  });

  describe('lockout', () => {
    it('locks the account after the configured failures, across two instances sharing the host', async () => {
      const other = await startApp({ LOGIN_MAX_FAILURES: '3', LOGIN_LOCK_SECONDS: '600' }, { clock: api.clock });
      try {
        const fail = (instance: TestApp) => instance.request('POST', '/api/auth/login', { body: { account: BOB.account, pin: '00000' } });
        expectProblem(await fail(api), 401, 'invalid_credentials');
        expectProblem(await fail(other), 401, 'invalid_credentials');
        expectProblem(await fail(api), 401, 'invalid_credentials');
        for (const instance of [api, other]) {
          const locked = await instance.request('POST', '/api/auth/login', { body: { account: BOB.account, pin: BOB.pin } });
          expectProblem(locked, 423, 'account_locked');
          expect(Number(locked.headers.get('retry-after'))).to.be.within(1, 600);
        }
        api.clock.advance(599);
        expectProblem(await api.request('POST', '/api/auth/login', { body: { account: BOB.account, pin: BOB.pin } }), 423, 'account_locked');
        api.clock.advance(1);
        expect((await other.request('POST', '/api/auth/login', { body: { account: BOB.account, pin: BOB.pin } })).status).to.equal(201);
      } finally {
        await other.close();
      }
    });

    it('counts consecutive failures only: a success resets the counter', async () => {
      const attempt = (pin: string) => api.request('POST', '/api/auth/login', { body: { account: BOB.account, pin } });
      await attempt('00000');
      await attempt('00000');
      expect((await attempt(BOB.pin)).status).to.equal(201);
      await attempt('00000');
      await attempt('00000');
      expect((await attempt(BOB.pin)).status).to.equal(201);
    });

    it('locks an unknown account number exactly like a real one: the lockout is no oracle', async () => {
      const answers = async (account: string) => {
        const statuses: number[] = [];
        for (let i = 0; i < 4; i++) statuses.push((await api.request('POST', '/api/auth/login', { body: { account, pin: '00000' } })).status);
        return statuses;
      };
      expect(await answers(BOB.account)).to.deep.equal([401, 401, 401, 423]);
      expect(await answers('123456789')).to.deep.equal([401, 401, 401, 423]);
      const locked = await api.request('POST', '/api/auth/login', { body: { account: '123456789', pin: '00000' } });
      expect(locked.headers.get('retry-after')).to.equal('600');
    });

    it('forgets failures older than the lock length (and the purge deletes their counters)', async () => {
      const fail = () => api.request('POST', '/api/auth/login', { body: { account: BOB.account, pin: '00000' } });
      expectProblem(await fail(), 401, 'invalid_credentials');
      expectProblem(await fail(), 401, 'invalid_credentials');
      api.clock.advance(600);
      expect(await purgeExpired(api.host, { now: api.clock.now, auditBefore: new Date(0), guardBefore: new Date(api.clock.now.getTime() - 600_000), knownDeviceBefore: new Date(0) }))
        .to.include({ sessions: 0 });
      expect(await hostRows('SELECT * FROM login_guard')).to.deep.equal([]);
      expectProblem(await fail(), 401, 'invalid_credentials');
      expectProblem(await fail(), 401, 'invalid_credentials'); // two, not four: no lock
      expect((await api.request('POST', '/api/auth/login', { body: { account: BOB.account, pin: BOB.pin } })).status).to.equal(201);
    });

    it('does not lock one account for another\u2019s failures', async () => {
      for (let i = 0; i < 3; i++) await api.request('POST', '/api/auth/login', { body: { account: BOB.account, pin: '00000' } });
      expect((await api.request('POST', '/api/auth/login', { body: { account: ALICE.account, pin: ALICE.pin } })).status).to.equal(201);
    });
  });

  describe('login rate limit per client address', () => {
    it('answers 429 with Retry-After beyond LOGIN_RATE_PER_MINUTE per client address, before any host call', async () => {
      // One trusted proxy in front: the address is the one it saw (the last X-Forwarded-For entry).
      const limited = await startApp({ LOGIN_RATE_PER_MINUTE: '3', TRUST_PROXY: '1' });
      const from = (address: string) => limited.request('POST', '/api/auth/login', {
        body: { account: ALICE.account, pin: ALICE.pin }, headers: { 'x-forwarded-for': address },
      });
      try {
        for (let i = 0; i < 3; i++) expect((await from('192.0.2.1')).status).to.equal(201);
        const before = limited.host.stats().total;
        const response = await from('192.0.2.1');
        expectProblem(response, 429, 'rate_limited');
        expect(Number(response.headers.get('retry-after'))).to.be.within(1, 60);
        expect(limited.host.stats().total).to.equal(before);
        expect((await from('192.0.2.2')).status, 'another address has its own count').to.equal(201);
      } finally {
        await limited.close();
      }
    });
  });

  describe('tokens that are refused with 401 and WWW-Authenticate', () => {
    let token: string;
    beforeEach(async () => {
      token = await api.login(ALICE.account, ALICE.pin);
    });

    it('accepts the genuine token (control)', async () => {
      expect((await api.request('GET', '/api/auth/session', { token })).status).to.equal(200);
    });

    it('refuses a missing token', async () => {
      expectInvalidToken(await api.request('GET', '/api/auth/session'));
    });

    it('refuses a malformed token and a non-Bearer scheme', async () => {
      expectInvalidToken(await api.request('GET', '/api/auth/session', { token: 'not-a-jwt' }));
      expectInvalidToken(await api.request('GET', '/api/auth/session', { headers: { authorization: `Basic ${token}` } }));
    });

    it('refuses alg: none', async () => {
      const { header, payload } = tokenParts(token);
      const none = encodePart({ ...decodePart(header), alg: 'none' });
      expectInvalidToken(await api.request('GET', '/api/auth/session', { token: `${none}.${payload}.` }));
      expectInvalidToken(await api.request('GET', '/api/auth/session', { token: `${none}.${payload}.x` }));
    });

    it('refuses a tampered payload', async () => {
      const { header, payload, signature } = tokenParts(token);
      const other = await api.login(BOB.account, BOB.pin);
      const forged = encodePart({ ...decodePart(payload), sid: tokenClaims(other).sid });
      expectInvalidToken(await api.request('GET', '/api/auth/session', { token: `${header}.${forged}.${signature}` }));
    });

    it('accepts the scheme in any case (RFC 7235: "bearer" is Bearer)', async () => {
      for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
        const response = await api.request('GET', '/api/auth/session', { headers: { authorization: `${scheme} ${token}` } });
        expect(response.status, scheme).to.equal(200);
      }
    });

    it('refuses a token whose iat lies in the future, though genuinely signed', async () => {
      const { kid, key } = await keys.current(api.clock.now);
      const claims = tokenClaims(token);
      const fromTheFuture = await new SignJWT({ ...claims, iat: Number(claims.iat) + 600 })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid }).sign(key);
      expectInvalidToken(await api.request('GET', '/api/auth/session', { token: fromTheFuture }));
      const skewed = await new SignJWT({ ...claims, iat: Number(claims.iat) + 2 }) // another instance's clock a little ahead
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid }).sign(key);
      expect((await api.request('GET', '/api/auth/session', { token: skewed })).status).to.equal(200);
    });

    it('refuses a token signed with another secret', async () => {
      const foreign = new KeyRing('another-secret-0123456789abcdefghijklmnop', 3600, 3600);
      const { kid, key } = await foreign.current(api.clock.now);
      const payload = tokenClaims(token);
      const forged = await new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid }).sign(key);
      expectInvalidToken(await api.request('GET', '/api/auth/session', { token: forged }));
    });

    it('refuses unknown, future and hostile kids', async () => {
      const payload = tokenClaims(token);
      const future = keys.windowAt(api.clock.now) + 5;
      const futureToken = await new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: String(future) })
        .sign(await keys.signingKeyFor(future));
      expectInvalidToken(await api.request('GET', '/api/auth/session', { token: futureToken }));
      for (const kid of ['../../etc/passwd', '__proto__', '-1', '1e3']) {
        const hostile = await new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid }).sign(new Uint8Array(32));
        expectInvalidToken(await api.request('GET', '/api/auth/session', { token: hostile }));
      }
    });

    it('refuses a token of the right key but the wrong typ, iss or aud', async () => {
      const payload = tokenClaims(token);
      const { kid, key } = await keys.current(api.clock.now);
      for (const [header, claims] of [
        [{ alg: 'HS256', typ: 'at+jwt', kid }, payload],
        [{ alg: 'HS256', typ: 'JWT', kid }, { ...payload, iss: 'someone-else' }],
        [{ alg: 'HS256', typ: 'JWT', kid }, { ...payload, aud: 'someone-else' }],
      ] as const) {
        const forged = await new SignJWT(claims).setProtectedHeader(header).sign(key);
        expectInvalidToken(await api.request('GET', '/api/auth/session', { token: forged }));
      }
    });

    it('refuses an expired token', async () => {
      api.clock.advance(3600);
      expectInvalidToken(await api.request('GET', '/api/auth/session', { token }));
    });

    it('refuses a token after logout, as session_expired', async () => {
      expect((await api.request('DELETE', '/api/auth/session', { token })).status).to.equal(204);
      expectInvalidToken(await api.request('GET', '/api/auth/session', { token }), 'session_expired');
      expectInvalidToken(await api.request('DELETE', '/api/auth/session', { token }), 'session_expired');
    });

    it('refuses every device\u2019s token after logout-all, and only that customer\u2019s', async () => {
      const phone = await api.login(ALICE.account, ALICE.pin, 'phone');
      const bob = await api.login(BOB.account, BOB.pin);
      const response = await api.request('DELETE', '/api/auth/sessions', { token });
      expect(response.status).to.equal(204);
      expect(response.headers.get('x-sessions-ended')).to.equal('2');
      expectInvalidToken(await api.request('GET', '/api/auth/session', { token }), 'session_expired');
      expectInvalidToken(await api.request('GET', '/api/auth/session', { token: phone }), 'session_expired');
      expect((await api.request('GET', '/api/auth/session', { token: bob })).status).to.equal(200);
    });

    it('refuses a token after the idle timeout, and deletes the host row', async () => {
      api.clock.advance(299);
      expect((await api.request('GET', '/api/auth/session', { token })).status).to.equal(200);
      api.clock.advance(300);
      expectInvalidToken(await api.request('GET', '/api/auth/session', { token }), 'session_expired');
      expect(Number((await hostRow('SELECT COUNT(*) AS n FROM host_session')).n)).to.equal(0);
    });

    it('slides the idle timeout with activity, but never past the absolute timeout', async () => {
      for (let elapsed = 120; elapsed < 3600; elapsed += 120) {
        api.clock.advance(120);
        expect((await api.request('GET', '/api/auth/session', { token })).status, `at ${elapsed}s`).to.equal(200);
      }
      api.clock.advance(120); // 3600 s after login: active all along, but the absolute limit holds
      expectInvalidToken(await api.request('GET', '/api/auth/session', { token })); // the JWT's exp is the absolute limit
      // and the host holds the same limit on its own, whatever a token claims:
      const sid = String(tokenClaims(token).sid);
      const onHost = await resolveSession(api.host, { sessionId: sid, now: api.clock.now, idleSeconds: 300, touchSeconds: 60, requestId: 't', clientAddress: '127.0.0.1', traceId: null });
      expect(onHost.status).to.equal('expired');
    });
  });

  describe('key rotation', () => {
    it('keeps a token working across rotations until its session ends; refresh signs with the new key', async () => {
      const rotating = await startApp({ JWT_ROTATION_SECONDS: '60' });
      try {
        const token = await rotating.login(ALICE.account, ALICE.pin);
        const oldKid = tokenHeader(token).kid;
        rotating.clock.advance(150);
        expect((await rotating.request('GET', '/api/auth/session', { token })).status).to.equal(200);
        const refreshed = await rotating.request('POST', '/api/auth/refresh', { token });
        expect(refreshed.status).to.equal(200);
        expect(refreshed.body.session.absoluteExpiresAt).to.equal('2026-11-25T11:00:00.000Z');
        const newKid = tokenHeader(refreshed.body.token).kid;
        expect(Number(newKid)).to.equal(Number(oldKid) + 2);
        expect(tokenClaims(refreshed.body.token).sid).to.equal(tokenClaims(token).sid);
        expect((await rotating.request('GET', '/api/auth/session', { token: refreshed.body.token })).status).to.equal(200);
        expect((await rotating.request('GET', '/api/auth/session', { token })).status).to.equal(200);
      } finally {
        await rotating.close();
      }
    });
  });

  describe('several instances', () => {
    it('honours a token from another instance, and a logout there kills it here at once', async () => {
      const other = await startApp({}, { clock: api.clock });
      try {
        const token = await api.login(ALICE.account, ALICE.pin);
        expect((await other.request('GET', '/api/accounts', { token })).status).to.equal(200);
        expect((await other.request('DELETE', '/api/auth/session', { token })).status).to.equal(204);
        expectInvalidToken(await api.request('GET', '/api/accounts', { token }), 'session_expired');
      } finally {
        await other.close();
      }
    });

    it('refuses tokens of an instance with another secret', async () => {
      const stranger = await startApp({}, { clock: api.clock, secret: 'a-different-secret-0123456789abcdefghij' });
      try {
        const token = await api.login(ALICE.account, ALICE.pin);
        expectInvalidToken(await stranger.request('GET', '/api/accounts', { token }));
      } finally {
        await stranger.close();
      }
    });
  });

  describe('/api/auth/session/scratchpad', () => {
    it('is {} when empty, round-trips a JSON object, and is per session', async () => {
      const token = await api.login(ALICE.account, ALICE.pin);
      const second = await api.login(ALICE.account, ALICE.pin);
      expect((await api.request('GET', '/api/auth/session/scratchpad', { token })).body).to.deep.equal({});
      const pad = { step: 3, cart: ['A1', 'B2'], note: 'h\u00e9llo \u2603', nested: { ok: true } };
      expect((await api.request('PUT', '/api/auth/session/scratchpad', { token, body: pad })).status).to.equal(204);
      expect((await api.request('GET', '/api/auth/session/scratchpad', { token })).body).to.deep.equal(pad);
      expect((await api.request('GET', '/api/auth/session/scratchpad', { token: second })).body).to.deep.equal({});
    });

    it('takes exactly 4096 bytes serialized and refuses 4097 with 413', async () => {
      const token = await api.login(ALICE.account, ALICE.pin);
      const fits = { d: 'x'.repeat(4096 - '{"d":""}'.length) };
      expect((await api.request('PUT', '/api/auth/session/scratchpad', { token, body: fits })).status).to.equal(204);
      const tooBig = { d: `${fits.d}x` };
      expectProblem(await api.request('PUT', '/api/auth/session/scratchpad', { token, body: tooBig }), 413, 'payload_too_large');
      expect((await api.request('GET', '/api/auth/session/scratchpad', { token })).body).to.deep.equal(fits);
    });

    it('refuses a body that is not a JSON object', async () => {
      const token = await api.login(ALICE.account, ALICE.pin);
      expectProblem(await api.request('PUT', '/api/auth/session/scratchpad', { token, rawBody: '[1,2]', headers: { 'content-type': 'application/json' } }), 400, 'validation_failed');
      expectProblem(await api.request('PUT', '/api/auth/session/scratchpad', { token, rawBody: 'x=1', headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type');
    });

    it('is gone with its session', async () => {
      const token = await api.login(ALICE.account, ALICE.pin);
      await api.request('DELETE', '/api/auth/session', { token });
      expectInvalidToken(await api.request('GET', '/api/auth/session/scratchpad', { token }), 'session_expired');
    });
  });

  describe('purge', () => {
    it('removes expired session rows and only those', async () => {
      const expiring = await api.login(ALICE.account, ALICE.pin);
      api.clock.advance(200);
      const fresh = await api.login(BOB.account, BOB.pin);
      api.clock.advance(150); // the first is 350 s idle (expired), the second 150 s (alive)
      const purged = await purgeExpired(api.host, { now: api.clock.now, auditBefore: new Date(0), guardBefore: new Date(0), knownDeviceBefore: new Date(0) });
      expect(purged.sessions).to.equal(1);
      const rows = await hostRows('SELECT customer_id FROM host_session');
      expect(rows.map((r) => r.customer_id)).to.deep.equal(['C002']);
      expect((await api.request('GET', '/api/auth/session', { token: fresh })).status).to.equal(200);
      expectInvalidToken(await api.request('GET', '/api/auth/session', { token: expiring }), 'session_expired');
      expect((await purgeExpired(api.host, { now: api.clock.now, auditBefore: new Date(0), guardBefore: new Date(0), knownDeviceBefore: new Date(0) })).sessions).to.equal(0);
    });
  });

  describe('host cost of a protected request', () => {
    it('is one session call plus the handler\u2019s statement, and the session row is written rarely', async () => {
      const token = await api.login(STAFF.account, STAFF.pin);
      const sid = String(tokenClaims(token).sid);
      const before = api.host.stats().calls;
      const requests = 100;
      let lastSeen = '';
      let writes = 0;
      for (let i = 0; i < requests; i++) {
        api.clock.advance(3); // steady traffic: one request every 3 s for 5 minutes
        expect((await api.request('GET', '/api/sample/employee/000010', { token })).status).to.equal(200);
        const row = await hostRow('SELECT last_seen_at FROM host_session WHERE session_id = ?', [sid]);
        const seen = new Date(String(row.last_seen_at)).toISOString();
        if (seen !== lastSeen) {
          writes += lastSeen ? 1 : 0;
          lastSeen = seen;
        }
      }
      const after = api.host.stats().calls;
      const delta = (name: string) => (after[name] ?? 0) - (before[name] ?? 0);
      expect(delta('employee.get')).to.equal(requests);
      expect(delta('session_resolve') + delta('session.read'), 'one session call per request').to.equal(requests);
      expect(writes, 'idle clock written every 60 s, not on every request').to.be.within(4, 5);
      // The procedure runs only when the clock may be due (first sight, then about once a minute);
      // every other request is a plain primary-key read.
      expect(delta('session_resolve')).to.be.at.most(writes + 2);
      expect(delta('session.read')).to.be.at.least(requests - writes - 2);
    });

    it('sees a logout on another instance at once, even between idle-clock writes', async () => {
      const token = await api.login(ALICE.account, ALICE.pin);
      expect((await api.request('GET', '/api/accounts', { token })).status).to.equal(200); // remembered here now
      const other = await startApp({}, { clock: api.clock });
      try {
        expect((await other.request('DELETE', '/api/auth/session', { token })).status).to.equal(204);
      } finally {
        await other.close();
      }
      api.clock.advance(1);
      expectInvalidToken(await api.request('GET', '/api/accounts', { token }), 'session_expired');
    });

    it('shares one host lookup among concurrent requests for the same session', async () => {
      // Session lookups (the procedure or the read, whichever the resolver picks)
      // are held at a gate until every request has either started one or joined
      // one: on a busy machine or an idle one, the overlap is the same.
      let lookups = 0;
      let open: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => { open = resolve; });
      const isSessionLookup = (name: string) => name === 'session_resolve' || name === 'session.read';
      const gated: Host = Object.create(api.host, {
        call: { value: async (...args: Parameters<Host['call']>) => {
          if (isSessionLookup(args[0])) { lookups += 1; await gate; }
          return api.host.call(...args);
        } },
        query: { value: async (...args: Parameters<Host['query']>) => {
          if (isSessionLookup(args[0].name)) { lookups += 1; await gate; }
          return api.host.query(...args);
        } },
      });
      const slow = await startApp({}, { clock: api.clock, host: gated });
      try {
        const token = await slow.login(ALICE.account, ALICE.pin);
        const pending = Promise.all(Array.from({ length: 20 }, () => slow.request('GET', '/api/auth/session', { token })));
        await until(() => lookups + slow.app.auth.stats().sharedLookups === 20);
        open();
        const responses = await pending;
        expect(responses.map((r) => r.status)).to.deep.equal(Array(20).fill(200));
        expect(lookups, 'host lookups').to.equal(1);
        expect(slow.app.auth.stats().sharedLookups, 'lookups answered by the one in flight').to.equal(19);
      } finally {
        open();
        await slow.close();
      }
    });

    it('reads the sessions of requests that reach their lookup in one turn with one statement, each request answered with its own', async () => {
      // Device-bound requests wait at the replay memory until all have arrived;
      // let go together, they reach their session lookups in one event-loop turn.
      let gating = false;
      let waiting = 0;
      let open: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => { open = resolve; });
      const state = memoryState({ loginsPerMinute: 1000 }, api.clock.now);
      const sharedState: SharedState = Object.create(state, {
        replays: { value: { record: async (...args: Parameters<ReplayCache['record']>) => {
          if (gating) { waiting += 1; await gate; }
          return state.replays.record(...args);
        } } },
      });
      const gated = await startApp({}, { clock: api.clock, sharedState });
      try {
        const customers = [[ALICE, 'C001'], [BOB, 'C002'], [CAROL, 'C003'], [STAFF, 'C900']] as const;
        const sessions = [];
        for (let i = 0; i < 12; i++) {
          const [customer, customerId] = customers[i % customers.length]!;
          const device = await TestDevice.create();
          const token = await gated.loginAs(device, customer.account, customer.pin);
          // The first request writes the idle clock (the procedure); from then on a lookup is a read.
          expect((await gated.requestAs(device, 'GET', '/api/auth/session', { token })).status).to.equal(200);
          sessions.push({ device, token, customerId });
        }
        gating = true;
        const before = gated.host.stats().calls;
        // Sent newest first: a row handed out by its place in the host's answer, not by its id, reaches another customer.
        const sent = [...sessions].reverse();
        const pending = Promise.all(sent.map(({ device, token }) => gated.requestAs(device, 'GET', '/api/auth/session', { token })));
        await until(() => waiting === sent.length);
        open();
        const responses = await pending;
        expect(responses.map((r) => [r.status, r.body.customerId])).to.deep.equal(sent.map((s) => [200, s.customerId]));
        const after = gated.host.stats().calls;
        const delta = (name: string) => (after[name] ?? 0) - (before[name] ?? 0);
        expect([delta('session.read.batch'), delta('session.read'), delta('session_resolve')], 'twelve reads: 8 + 4').to.deep.equal([2, 0, 0]);
      } finally {
        open();
        await gated.close();
      }
    });
  });
});
