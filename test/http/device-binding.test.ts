// Device-bound sessions (DPoP, RFC 9449), signed transfers, the device list and
// the binding policy: a token copied off a phone is worthless without the key.
import { expect } from 'chai';
import { calculateJwkThumbprint } from 'jose';
import { hostRow, hostRows, resetHost, TEST_PIN_PEPPER } from '../support/host.js';
import { ALICE, BOB, startApp, type Response, type TestApp } from '../support/app.js';
import { respelled, TestDevice } from '../support/dpop.js';
import { expectProblem } from '../support/expect.js';
import { tokenClaims } from '../support/jwt.js';
import { createApp } from '../../app/app.js';
import { sha256Base64url } from '../../auth/tokens.js';
import { createLogger } from '../../app/logger.js';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Host } from '../../db/host.js';

const ALGS = 'algs="ES256 Ed25519 EdDSA"';

function expectDpopError(response: Response, code: 'invalid_dpop_proof' | 'use_dpop_nonce' | 'invalid_token' | 'session_expired' | 'dpop_required'): void {
  expectProblem(response, 401, code);
  const challenge = response.headers.get('www-authenticate') ?? '';
  if (code === 'dpop_required') expect(challenge).to.equal(`DPoP ${ALGS}`);
  else if (code === 'session_expired') expect(challenge).to.equal(`DPoP error="invalid_token", ${ALGS}`);
  else expect(challenge).to.equal(`DPoP error="${code}", ${ALGS}`);
  if (code === 'use_dpop_nonce' || code === 'invalid_dpop_proof' || code === 'dpop_required') {
    expect(response.headers.get('dpop-nonce')).to.match(/^\d+\.[A-Za-z0-9_-]{22}$/);
  }
}

describe('device-bound sessions (DPoP, RFC 9449)', () => {
  let api: TestApp;
  let phone: TestDevice;
  let token: string;
  const iat = () => Math.floor(api.clock.now.getTime() / 1000);
  /** A request with a proof built by hand (hostile variations), the token under the DPoP scheme. */
  const send = (proof: string, path = '/api/accounts', method = 'GET', scheme = 'DPoP') =>
    api.request(method, path, { headers: { authorization: `${scheme} ${token}`, dpop: proof } });

  beforeEach(async () => {
    await resetHost();
    api = await startApp({ STEP_UP_AMOUNT: '100.00' });
    phone = await TestDevice.create();
    token = await api.loginAs(phone, ALICE.account, ALICE.pin, 'Alice\u2019s phone');
  });
  afterEach(() => api.close());

  describe('login with a proof', () => {
    it('binds the session to the key: tokenType DPoP, cnf.jkt in the token, the thumbprint on the host row', async () => {
      const jkt = await calculateJwkThumbprint(phone.jwk, 'sha256');
      expect(tokenClaims(token).cnf).to.deep.equal({ jkt });
      const row = await hostRow('SELECT jkt FROM host_session');
      expect(row.jkt).to.equal(jkt);
      const me = await api.requestAs(phone, 'GET', '/api/auth/session', { token });
      expect(me.status).to.equal(200);
      expect(me.body.bound).to.equal(true);
      const audit = await hostRow("SELECT detail FROM audit_log WHERE event = 'login' AND outcome = 'ok'");
      expect(audit.detail).to.equal('device-bound');
    });

    it('asks for its nonce first (401 use_dpop_nonce with DPoP-Nonce), then logs in', async () => {
      const fresh = await TestDevice.create();
      const proof = await fresh.proof({ method: 'POST', url: `${api.url}/api/auth/login`, iat: iat() });
      const first = await api.request('POST', '/api/auth/login', { body: { account: BOB.account, pin: BOB.pin }, headers: { dpop: proof } });
      expectDpopError(first, 'use_dpop_nonce');
      fresh.nonce = first.headers.get('dpop-nonce');
      const again = await api.request('POST', '/api/auth/login', {
        body: { account: BOB.account, pin: BOB.pin }, headers: { dpop: await fresh.proof({ method: 'POST', url: `${api.url}/api/auth/login`, iat: iat() }) },
      });
      expect(again.status).to.equal(201);
      expect(again.body.tokenType).to.equal('DPoP');
    });

    it('refuses a bad proof before the host is asked anything', async () => {
      const before = api.host.stats().total;
      const proof = await phone.proof({ method: 'GET', url: `${api.url}/api/auth/login`, iat: iat() }); // wrong htm
      expectDpopError(await api.request('POST', '/api/auth/login', { body: { account: BOB.account, pin: BOB.pin }, headers: { dpop: proof } }), 'invalid_dpop_proof');
      expect(api.host.stats().total).to.equal(before);
    });

    it('works with an Ed25519 device key too', async () => {
      const laptop = await TestDevice.create('Ed25519');
      const edToken = await api.loginAs(laptop, BOB.account, BOB.pin);
      expect((await api.requestAs(laptop, 'GET', '/api/accounts', { token: edToken })).status).to.equal(200);
    });
  });

  describe('a bound token on a protected route', () => {
    it('is served with a proof by its key (control)', async () => {
      expect((await api.requestAs(phone, 'GET', '/api/accounts', { token })).status).to.equal(200);
    });

    it('is refused as a Bearer token, and with no proof at all', async () => {
      expectDpopError(await api.request('GET', '/api/accounts', { token }), 'invalid_token');
      expectDpopError(await api.request('GET', '/api/accounts', { headers: { authorization: `DPoP ${token}` } }), 'invalid_dpop_proof');
    });

    it('is refused with a proof from another key (a stolen token on another device)', async () => {
      const thief = await TestDevice.create();
      thief.nonce = phone.nonce;
      expectDpopError(await send(await thief.proof({ method: 'GET', url: `${api.url}/api/accounts`, token, iat: iat() })), 'invalid_dpop_proof');
    });

    const hostile: [string, (p: TestDevice, t: () => number, url: string) => Promise<string>][] = [
      ['a stale proof (iat 3 nonce windows old)', (p, t, url) => p.proof({ method: 'GET', url, token, iat: t() - 180 })],
      ['a proof from the future', (p, t, url) => p.proof({ method: 'GET', url, token, iat: t() + 60 })],
      ['a proof for another method', (p, t, url) => p.proof({ method: 'POST', url, token, iat: t() })],
      ['a proof for another URL', (p, t, url) => p.proof({ method: 'GET', url: url.replace('/api/accounts', '/api/audit'), token, iat: t() })],
      ['a proof for another host', (p, t, url) => p.proof({ method: 'GET', url: url.replace('127.0.0.1', 'evil.example'), token, iat: t() })],
      ['a proof naming another token (ath)', (p, t, url) => p.proof({ method: 'GET', url, token: `${token}x`, iat: t() })],
      ['a proof with no ath', (p, t, url) => p.proof({ method: 'GET', url, iat: t() })],
      ['a proof carrying the private key', (p, t, url) => p.proof({ method: 'GET', url, token, iat: t(), claims: {} }).then(async (proof) => {
        const [, payload, signature] = proof.split('.');
        const header = Buffer.from(JSON.stringify({ alg: p.algorithm, typ: 'dpop+jwt', jwk: { ...p.jwk, d: 'AAAA' } })).toString('base64url');
        return `${header}.${payload}.${signature}`;
      })],
      ['a proof of typ JWT', (p, t, url) => p.proof({ method: 'GET', url, token, iat: t() }).then((proof) => {
        const [, payload, signature] = proof.split('.');
        return `${Buffer.from(JSON.stringify({ alg: p.algorithm, typ: 'JWT', jwk: p.jwk })).toString('base64url')}.${payload}.${signature}`;
      })],
      ['a proof whose exp has passed', (p, t, url) => p.proof({ method: 'GET', url, token, iat: t(), claims: { exp: t() - 1 } })],
      ['a proof whose nbf is still to come', (p, t, url) => p.proof({ method: 'GET', url, token, iat: t(), claims: { nbf: t() + 60 } })],
      ['a proof naming a critical extension (crit) the server does not know', (p, t, url) => p.signed(
        { alg: p.algorithm, typ: 'dpop+jwt', jwk: p.jwk, crit: ['urn:example:bind'], 'urn:example:bind': true },
        { htm: 'GET', htu: url, iat: t(), jti: randomUUID(), nonce: p.nonce, ath: sha256Base64url(token) },
      )],
      ['a proof whose claims are a JSON array', (p, _t, _url) => p.signed({ alg: p.algorithm, typ: 'dpop+jwt', jwk: p.jwk }, [])],
      ['a proof whose signature is spelled otherwise (unused low bits set), though its bytes are the same', (p, t, url) =>
        p.proof({ method: 'GET', url, token, iat: t() }).then((proof) => {
          const other = respelled(proof);
          expect(other).not.to.equal(proof);
          expect(Buffer.from(other.split('.')[2] ?? '', 'base64url')).to.deep.equal(Buffer.from(proof.split('.')[2] ?? '', 'base64url'));
          return other;
        })],
      ['a proof under the device\u2019s own header (the server knows it by now), signed by another key', async (p, t, url) => {
        const [header, payload] = (await p.proof({ method: 'GET', url, token, iat: t() })).split('.');
        const other = await TestDevice.create(p.algorithm);
        return `${header}.${payload}.${await other.signature(`${header}.${payload}`)}`;
      }],
      ['a proof by an Ed25519 key under alg ES256', async (_p, t, url) => {
        const other = await TestDevice.create('Ed25519');
        other.nonce = phone.nonce;
        return other.signed({ alg: 'ES256', typ: 'dpop+jwt', jwk: other.jwk }, { htm: 'GET', htu: url, iat: t(), jti: randomUUID(), nonce: phone.nonce, ath: sha256Base64url(token) });
      }],
    ];
    for (const [what, make] of hostile) {
      it(`refuses ${what} with invalid_dpop_proof, at no host cost`, async () => {
        const before = api.host.stats().total;
        expectDpopError(await send(await make(phone, iat, `${api.url}/api/accounts`)), 'invalid_dpop_proof');
        expect(api.host.stats().total).to.equal(before);
      });
    }

    it('refuses a replayed proof, asking for a fresh one: the device signs again and goes on', async () => {
      const proof = await phone.proof({ method: 'GET', url: `${api.url}/api/accounts`, token, iat: iat() });
      expect((await send(proof)).status).to.equal(200);
      expectDpopError(await send(proof), 'use_dpop_nonce');
      expect((await send(await phone.proof({ method: 'GET', url: `${api.url}/api/accounts`, token, iat: iat() }))).status).to.equal(200);
    });

    it('asks for the nonce of the current window: missing, forged or two windows old is use_dpop_nonce', async () => {
      const url = `${api.url}/api/accounts`;
      expectDpopError(await send(await phone.proof({ method: 'GET', url, token, iat: iat(), nonce: null })), 'use_dpop_nonce');
      const forged = `${phone.nonce?.split('.')[0]}.AAAAAAAAAAAAAAAAAAAAAA`;
      expectDpopError(await send(await phone.proof({ method: 'GET', url, token, iat: iat(), nonce: forged })), 'use_dpop_nonce');
      const old = phone.nonce;
      api.clock.advance(60);
      expect((await send(await phone.proof({ method: 'GET', url, token, iat: iat(), nonce: old }))).status, 'the previous window still counts').to.equal(200);
      api.clock.advance(60);
      const stale = await send(await phone.proof({ method: 'GET', url, token, iat: iat(), nonce: old }));
      expectDpopError(stale, 'use_dpop_nonce');
      expect(stale.headers.get('dpop-nonce')).not.to.equal(old);
    });

    it('takes a nonce from another instance: nonces need no shared state, only the shared secret', async () => {
      const other = await startApp({}, { clock: api.clock });
      try {
        const proof = await phone.proof({ method: 'GET', url: `${other.url}/api/accounts`, token, iat: iat() });
        const response = await other.request('GET', '/api/accounts', { headers: { authorization: `DPoP ${token}`, dpop: proof } });
        expect(response.status).to.equal(200);
      } finally {
        await other.close();
      }
    });

    it('keeps the binding through refresh, and logout and expiry work as for any session', async () => {
      const refreshed = await api.requestAs(phone, 'POST', '/api/auth/refresh', { token });
      expect(refreshed.status).to.equal(200);
      expect(refreshed.body.tokenType).to.equal('DPoP');
      expect(tokenClaims(refreshed.body.token).cnf).to.deep.equal(tokenClaims(token).cnf);
      expectDpopError(await api.request('GET', '/api/accounts', { token: refreshed.body.token }), 'invalid_token');
      expect((await api.requestAs(phone, 'DELETE', '/api/auth/session', { token: refreshed.body.token })).status).to.equal(204);
      expectDpopError(await api.requestAs(phone, 'GET', '/api/accounts', { token }), 'session_expired');
    });

    it('challenges in its own scheme when the session ends while its request is served (another device logged it out)', async () => {
      // A host on which each of these calls finds the session just ended by another request.
      const racing: Host = Object.create(api.host, {
        call: { value: async (...[name, args, context]: Parameters<Host['call']>) => {
          if (['logout', 'logout_all', 'session_end'].includes(name)) await api.host.call('logout', args, context);
          return api.host.call(name, args, context);
        } },
        query: { value: async (...[statement, params, context]: Parameters<Host['query']>) => {
          if (statement.name === 'scratchpad.get') await api.host.query({ name: 'test.end-session', sql: 'DELETE FROM host_session' }, [], context);
          return api.host.query(statement, params, context);
        } },
      });
      const racy = await startApp({}, { host: racing, clock: api.clock });
      try {
        for (const [method, path] of [['DELETE', '/api/auth/session'], ['DELETE', '/api/auth/sessions'], ['GET', '/api/auth/session/scratchpad']] as const) {
          await resetHost();
          const bound = await racy.loginAs(phone, ALICE.account, ALICE.pin);
          expectDpopError(await racy.requestAs(phone, method, path, { token: bound }), 'session_expired');
        }
      } finally {
        await racy.close();
      }
    });
  });

  describe('SESSION_BINDING=required', () => {
    it('refuses a login without a proof, and a bearer token from before the policy', async () => {
      const bearer = await api.login(BOB.account, BOB.pin); // issued while binding was optional
      const strict = await startApp({ SESSION_BINDING: 'required' }, { clock: api.clock });
      try {
        const before = strict.host.stats().total;
        expectDpopError(await strict.request('POST', '/api/auth/login', { body: { account: BOB.account, pin: BOB.pin } }), 'dpop_required');
        expect(strict.host.stats().total, 'no host call').to.equal(before);
        expectDpopError(await strict.request('GET', '/api/accounts', { token: bearer }), 'invalid_token');
        expectDpopError(await strict.request('GET', '/api/accounts'), 'invalid_token');
        const laptop = await TestDevice.create();
        const bound = await strict.loginAs(laptop, BOB.account, BOB.pin);
        expect((await strict.requestAs(laptop, 'GET', '/api/accounts', { token: bound })).status).to.equal(200);
      } finally {
        await strict.close();
      }
    });

    it('is the production default', () => {
      const production = createApp({
        config: { ...api.config, auth: { ...api.config.auth, binding: 'required' } }, host: api.host, secret: 'x'.repeat(32), pinPepper: TEST_PIN_PEPPER,
      });
      expect(production.auth.binding).to.equal('required');
      production.dispose();
    });
  });

  describe('signed transfers (dynamic linking)', () => {
    let key = 0;
    const fields = (overrides: Record<string, string> = {}) => ({
      fromAccount: ALICE.account, toAccount: BOB.account, amount: '25.00', currency: 'EUR', idempotencyKey: `signed-${Date.now()}-${++key}`, ...overrides,
    });
    const transfer = (signature: string | null, signedFields: ReturnType<typeof fields>, body: Record<string, string> = {}) =>
      api.requestAs(phone, 'POST', '/api/transfers', {
        token,
        body: { bankId: 'DEMOBANK1', fromAccount: signedFields.fromAccount, toAccount: signedFields.toAccount, amount: signedFields.amount, ...body },
        headers: { 'Idempotency-Key': signedFields.idempotencyKey, ...(signature ? { 'Transfer-Signature': signature } : {}) },
      });

    it('books a transfer the device signed, and the audit row records a digest of the signature, never the signature', async () => {
      const signedFields = fields();
      const signature = await phone.signTransfer(signedFields, iat());
      const response = await transfer(signature, signedFields);
      expect(response.status, response.text).to.equal(201);
      const row = await hostRow("SELECT detail FROM audit_log WHERE event = 'transfer' AND outcome = 'ok'");
      expect(String(row.detail)).to.match(/ signed [0-9a-f]{16}$/).and.not.include(signature.split('.')[2]);
    });

    it('refuses a bound session\u2019s transfer without a signature (403 signature_required)', async () => {
      expectProblem(await transfer(null, fields()), 403, 'signature_required');
    });

    for (const [what, change] of [
      ['the amount', { amount: '2500.00' }], ['the payee', { toAccount: ALICE.savings }], ['the source', { fromAccount: ALICE.savings }],
    ] as const) {
      it(`refuses the transfer when ${what} differs from what was signed, and books nothing`, async () => {
        const signedFields = fields();
        const signature = await phone.signTransfer(signedFields, iat());
        const response = await transfer(signature, { ...signedFields, ...change }, { pin: ALICE.pin });
        expectProblem(response, 403, 'invalid_signature');
        expect(await hostRows("SELECT * FROM audit_log WHERE event = 'transfer' AND outcome = 'ok'")).to.deep.equal([]);
      });
    }

    it('refuses a signature naming a critical extension (crit) the server does not know, and one spelled otherwise with the same bytes', async () => {
      const signedFields = fields();
      const withCrit = await phone.signed({ alg: phone.algorithm, typ: 'transfer+jwt', crit: ['urn:example:bind'], 'urn:example:bind': true },
        { ...signedFields, iat: iat() });
      expectProblem(await transfer(withCrit, signedFields), 403, 'invalid_signature');
      const genuine = await phone.signTransfer(signedFields, iat());
      expectProblem(await transfer(respelled(genuine), signedFields), 403, 'invalid_signature');
      expect(await hostRows("SELECT * FROM audit_log WHERE event = 'transfer' AND outcome = 'ok'")).to.deep.equal([]);
      expect((await transfer(genuine, signedFields)).status, 'the genuine one is booked').to.equal(201);
    });

    it('refuses a signature bound to another idempotency key (a replay under a new key)', async () => {
      const signedFields = fields();
      const signature = await phone.signTransfer(signedFields, iat());
      expectProblem(await transfer(signature, { ...signedFields, idempotencyKey: `${signedFields.idempotencyKey}-2` }), 403, 'invalid_signature');
    });

    it('refuses a signature over another currency than the account\u2019s (checked on the host)', async () => {
      const signedFields = fields({ currency: 'USD' });
      expectProblem(await transfer(await phone.signTransfer(signedFields, iat()), signedFields), 403, 'invalid_signature');
      const row = await hostRow("SELECT outcome FROM audit_log WHERE event = 'transfer'");
      expect(row.outcome).to.equal('signature_mismatch');
    });

    it('refuses a signature by another key, or signed too long ago', async () => {
      const signedFields = fields();
      const thief = await TestDevice.create();
      expectProblem(await transfer(await thief.signTransfer(signedFields, iat()), signedFields), 403, 'invalid_signature');
      expectProblem(await transfer(await phone.signTransfer(signedFields, iat() - 301), signedFields), 403, 'invalid_signature');
    });

    it('replays a retried signed transfer (same key, same signature) without booking it twice', async () => {
      const signedFields = fields();
      const signature = await phone.signTransfer(signedFields, iat());
      const first = await transfer(signature, signedFields);
      const again = await transfer(signature, signedFields);
      expect(again.status).to.equal(201);
      expect(again.body.transferId).to.equal(first.body.transferId);
      expect(again.headers.get('idempotent-replayed')).to.equal('true');
    });

    it('records a signed, stepped-up transfer as such', async () => {
      const signedFields = fields({ amount: '150.00', toAccount: ALICE.savings });
      const response = await transfer(await phone.signTransfer(signedFields, iat()), signedFields, { pin: ALICE.pin });
      expect(response.status, response.text).to.equal(201);
      const row = await hostRow("SELECT detail FROM audit_log WHERE event = 'transfer' AND outcome = 'ok'");
      expect(String(row.detail)).to.match(/ signed\+pin [0-9a-f]{16}$/);
    });
  });

  describe('the customer\u2019s devices: GET /api/auth/sessions, DELETE /api/auth/sessions/{ref}', () => {
    it('lists every live session with its label, binding and which is the caller\u2019s; refs are not session ids', async () => {
      api.clock.advance(1);
      const laptop = await api.login(ALICE.account, ALICE.pin, 'Alice\u2019s laptop');
      await api.login(BOB.account, BOB.pin, 'Bob\u2019s phone'); // another customer: never listed
      const list = await api.requestAs(phone, 'GET', '/api/auth/sessions', { token });
      expect(list.status).to.equal(200);
      expect(list.body.items.map((s: Record<string, unknown>) => [s.device, s.bound, s.current]))
        .to.deep.equal([['Alice\u2019s phone', true, true], ['Alice\u2019s laptop', false, false]]);
      const sids = [tokenClaims(token).sid, tokenClaims(laptop).sid];
      for (const item of list.body.items) {
        expect(item.ref).to.match(/^[0-9a-f]{16}$/);
        expect(sids).not.to.include(item.ref);
        expect(JSON.stringify(item)).not.to.include(String(sids[0]).slice(0, 8));
      }
    });

    it('ends one device\u2019s session at once; a ref of another customer, or none, is 404', async () => {
      const laptop = await api.login(ALICE.account, ALICE.pin, 'lost laptop');
      const bob = await api.login(BOB.account, BOB.pin);
      const bobRef = (await api.request('GET', '/api/auth/sessions', { token: bob })).body.items[0].ref as string;
      const list = await api.requestAs(phone, 'GET', '/api/auth/sessions', { token });
      const lost = list.body.items.find((s: { device: string }) => s.device === 'lost laptop').ref as string;
      expect((await api.requestAs(phone, 'DELETE', `/api/auth/sessions/${lost}`, { token })).status).to.equal(204);
      expectProblem(await api.request('GET', '/api/accounts', { token: laptop }), 401, 'session_expired');
      expectProblem(await api.requestAs(phone, 'DELETE', `/api/auth/sessions/${lost}`, { token }), 404, 'not_found');
      expectProblem(await api.requestAs(phone, 'DELETE', `/api/auth/sessions/${bobRef}`, { token }), 404, 'not_found');
      expect((await api.request('GET', '/api/accounts', { token: bob })).status, 'Bob\u2019s session untouched').to.equal(200);
      const audit = await hostRow("SELECT customer_id, detail FROM audit_log WHERE event = 'session_end'");
      expect(audit).to.deep.equal({ customer_id: 'C001', detail: `ended session ${lost}` });
    });
  });
});

describe('PIN_PEPPER apart from JWT_SECRET', () => {
  it('keeps every PIN valid when the token secret rotates, and only the pepper decides the digests', async () => {
    await resetHost();
    const rotated = await startApp({}, { secret: 'a-rotated-jwt-secret-0123456789abcdefghijkl' });
    const repeppered = await startApp({}, { pinPepper: 'another-pin-pepper-0123456789abcdefghijklmn' });
    try {
      expect((await rotated.request('POST', '/api/auth/login', { body: { account: ALICE.account, pin: ALICE.pin } })).status).to.equal(201);
      expectProblem(await repeppered.request('POST', '/api/auth/login', { body: { account: ALICE.account, pin: ALICE.pin } }), 401, 'invalid_credentials');
    } finally {
      await rotated.close();
      await repeppered.close();
    }
  });
});

describe('a refused DPoP proof in the server log', () => {
  let api: TestApp;
  let phone: TestDevice;
  let token: string;
  const lines: Record<string, unknown>[] = [];
  const iat = () => Math.floor(api.clock.now.getTime() / 1000);

  before(async () => {
    await resetHost();
    const sink = new Writable({ write(chunk, _encoding, done) { lines.push(JSON.parse(String(chunk)) as Record<string, unknown>); done(); } });
    api = await startApp({}, { logger: createLogger('info', sink) });
    phone = await TestDevice.create();
    token = await api.loginAs(phone, ALICE.account, ALICE.pin);
  });
  after(() => api.close());

  /** Sends the proof; the client sees only the code, the log the reason, with the request id. */
  async function refusedWith(proof: string, code: 'invalid_dpop_proof' | 'use_dpop_nonce'): Promise<string> {
    const requestId = `refusal-${lines.length}`;
    const response = await api.request('GET', '/api/accounts', { headers: { authorization: `DPoP ${token}`, dpop: proof, 'x-request-id': requestId } });
    expectProblem(response, 401, code);
    const logged = lines.find((line) => line.requestId === requestId && line.msg === 'request refused');
    expect(logged, `a log line for ${requestId}`).to.include({ level: 30, code, route: 'GET /api/accounts' });
    const reason = String(logged?.reason);
    expect(response.text, 'the reason stays out of the body: no oracle').not.to.include(reason);
    return reason;
  }

  it('names a wrong htu and the URL expected, whose origin is the one proofs are checked against', async () => {
    const proof = await phone.proof({ method: 'GET', url: 'https://api.bank.example/api/accounts', token, iat: iat() });
    expect(await refusedWith(proof, 'invalid_dpop_proof'))
      .to.equal(`htu "https://api.bank.example/api/accounts" is not this request's URL ${api.url}/api/accounts`);
  });

  it('names a stale iat and its age, and one from the future', async () => {
    const url = `${api.url}/api/accounts`;
    expect(await refusedWith(await phone.proof({ method: 'GET', url, token, iat: iat() - 600 }), 'invalid_dpop_proof')).to.equal('iat is 600 s old (125 s allowed)');
    expect(await refusedWith(await phone.proof({ method: 'GET', url, token, iat: iat() + 60 }), 'invalid_dpop_proof'))
      .to.equal('iat is 60 s ahead of the server\'s clock (5 s allowed)');
  });

  it('names an ath that is not the token\'s', async () => {
    const proof = await phone.proof({ method: 'GET', url: `${api.url}/api/accounts`, token: `${token}x`, iat: iat() });
    expect(await refusedWith(proof, 'invalid_dpop_proof')).to.equal('ath does not name the token the request carries');
  });

  it('names an unknown nonce, and a missing one', async () => {
    const url = `${api.url}/api/accounts`;
    expect(await refusedWith(await phone.proof({ method: 'GET', url, token, iat: iat(), nonce: '1.forged' }), 'use_dpop_nonce'))
      .to.equal('nonce "1.forged" is not this window\'s or the previous one\'s');
    expect(await refusedWith(await phone.proof({ method: 'GET', url, token, iat: iat(), nonce: null }), 'use_dpop_nonce')).to.equal('nonce missing');
  });

  it('names a replay', async () => {
    const proof = await phone.proof({ method: 'GET', url: `${api.url}/api/accounts`, token, iat: iat() });
    expect((await api.request('GET', '/api/accounts', { headers: { authorization: `DPoP ${token}`, dpop: proof } })).status).to.equal(200);
    expect(await refusedWith(proof, 'use_dpop_nonce')).to.equal('replayed proof: its jti was used before');
  });
});
