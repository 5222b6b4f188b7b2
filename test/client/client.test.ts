// BankClient against the real service (in-process, on the shared test host,
// the client dated by the app's test clock): an app's whole flow, the protocol
// chores the client does by itself, and the typed errors it raises.
import { expect } from 'chai';
import { calculateJwkThumbprint, compactVerify, importJWK } from 'jose';
import {
  AccountLocked, BankClient, Forbidden, InsufficientFunds, InvalidCredentials, LimitExceeded, MemoryKeyStore, NotFound,
  NotLoggedIn, ProofRejected, SessionExpired, StepUpRequired, TransferRefused, ValidationFailed, type BankClientOptions, type SessionChange,
} from '../../client/src/index.js';
import { MemoryReplayCache, memoryState } from '../../auth/shared-state.js';
import { ALICE, BOB, STAFF, startApp, TestClock, type TestApp } from '../support/app.js';
import { hostRow, hostRows, resetHost } from '../support/host.js';
import { jwsParts, lines, recordingFetch, type Exchanged } from './support.js';

/** The rejection of `promise`, which must be an instance of `type`. */
async function rejection<T extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => T): Promise<T> {
  try {
    await promise;
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(type);
    return error as T;
  }
  throw new Error(`expected ${type.name}, but it resolved`);
}

describe('BankClient against the service', () => {
  let api: TestApp;
  let log: Exchanged[];
  let changes: SessionChange['reason'][];
  const newClient = (options: Partial<BankClientOptions> = {}) => new BankClient({
    baseUrl: api.url, now: api.clock.read, fetch: recordingFetch(log),
    onSessionChange: (change) => changes.push(change.reason), ...options,
  });

  beforeEach(async () => {
    await resetHost();
    api = await startApp();
    log = [];
    changes = [];
  });
  afterEach(() => api.close());

  describe('login', () => {
    it('binds the session to a device key it makes, answering the nonce challenge on its own', async () => {
      const client = newClient();
      const session = await client.login(ALICE.account, ALICE.pin, { deviceLabel: 'Alice\u2019s phone' });
      expect(session).to.include({ customerId: 'C001', bankId: 'DEMOBANK1', role: 'customer', bound: true });
      expect(lines(log)).to.deep.equal(['POST /api/auth/login 401 use_dpop_nonce', 'POST /api/auth/login 201']);
      const row = await hostRow('SELECT jkt, device FROM host_session');
      expect(row).to.deep.equal({ jkt: await client.deviceThumbprint(), device: 'Alice\u2019s phone' });
      expect(changes).to.deep.equal(['login']);
    });

    it('sends proofs the RFC describes: public key only, htm, htu, iat on the given clock, nonce, ath with a token', async () => {
      const client = newClient();
      await client.login(ALICE.account, ALICE.pin);
      await client.accounts();
      const [, login, accounts] = log;
      const atLogin = jwsParts(login?.sent.get('dpop') ?? '');
      expect(atLogin.header).to.deep.equal({ typ: 'dpop+jwt', jwk: await client.devicePublicKey(), alg: 'ES256' });
      expect(Object.keys(atLogin.header.jwk ?? {}).sort()).to.deep.equal(['crv', 'kty', 'x', 'y']);
      expect(atLogin.payload).to.include({ htm: 'POST', htu: `${api.url}/api/auth/login`, iat: api.clock.now.getTime() / 1000 });
      expect(atLogin.payload.nonce).to.be.a('string');
      expect(atLogin.payload).not.to.have.property('ath');
      const withToken = jwsParts(accounts?.sent.get('dpop') ?? '');
      expect(withToken.payload).to.have.property('ath').that.is.a('string');
      expect(accounts?.sent.get('authorization')).to.match(/^DPoP /);
      expect(withToken.payload.jti).not.to.equal(atLogin.payload.jti);
    });

    it('keeps one device key in its key store: the same device across logins and clients, a new one after forgetDevice', async () => {
      const keyStore = new MemoryKeyStore();
      const first = newClient({ keyStore });
      await first.login(ALICE.account, ALICE.pin);
      const thumbprint = await first.deviceThumbprint();
      await first.logout();
      const again = newClient({ keyStore });
      await again.login(ALICE.account, ALICE.pin);
      expect(await again.deviceThumbprint()).to.equal(thumbprint);
      await again.forgetDevice();
      expect(await keyStore.load()).to.equal(null);
      expect(await again.deviceThumbprint()).not.to.equal(thumbprint);
    });

    it('makes the private key non-extractable: no code, the app\u2019s included, can read it', async () => {
      const keyStore = new MemoryKeyStore();
      await newClient({ keyStore }).login(ALICE.account, ALICE.pin);
      const pair = await keyStore.load();
      expect(pair?.privateKey.extractable).to.equal(false);
      let exported: unknown = null;
      await crypto.subtle.exportKey('jwk', pair!.privateKey).then((jwk) => { exported = jwk; }, () => undefined);
      expect(exported).to.equal(null);
    });

    it('works with an Ed25519 device key', async () => {
      const client = newClient({ algorithm: 'Ed25519' });
      await client.login(BOB.account, BOB.pin);
      expect((await client.accounts()).map((a) => a.accountId)).to.deep.equal([BOB.account]);
      expect(jwsParts(log[1]?.sent.get('dpop') ?? '').header.alg).to.equal('Ed25519');
    });

    it('raises InvalidCredentials for a wrong PIN, and AccountLocked (with Retry-After) once the account locks', async () => {
      const client = newClient();
      const wrong = await rejection(client.login(ALICE.account, '99999'), InvalidCredentials);
      expect(wrong.code).to.equal('invalid_credentials');
      for (let i = 0; i < 4; i++) await rejection(client.login(ALICE.account, '99999'), InvalidCredentials);
      const locked = await rejection(client.login(ALICE.account, ALICE.pin), AccountLocked);
      expect(locked.status).to.equal(423);
      expect(locked.retryAfterSeconds).to.be.greaterThan(0);
      expect(client.session).to.equal(null);
    });
  });

  describe('calls on the session', () => {
    it('reads accounts and pages through transactions', async () => {
      const client = newClient();
      await client.login(ALICE.account, ALICE.pin);
      expect(await client.accounts()).to.deep.equal([
        { accountId: ALICE.account, bankId: 'DEMOBANK1', kind: 'current', currency: 'EUR', balance: '1000.00' },
        { accountId: ALICE.savings, bankId: 'DEMOBANK1', kind: 'savings', currency: 'EUR', balance: '5000.00' },
      ]);
      for (const amount of ['10.00', '20.00']) await client.transfer({ fromAccount: ALICE.account, toAccount: BOB.account, amount });
      const first = await client.transactions(ALICE.account, { limit: 1 });
      expect(first.items.map((t) => t.amount)).to.deep.equal(['-20.00']);
      expect(first.nextCursor).to.be.a('string');
      const second = await client.transactions(ALICE.account, { limit: 1, cursor: first.nextCursor ?? '' });
      expect(second.items.map((t) => t.amount)).to.deep.equal(['-10.00']);
      await rejection(client.transactions('999999999'), NotFound);
    });

    it('reads employees on any session, and writes them on a staff session only', async () => {
      const alice = newClient();
      await alice.login(ALICE.account, ALICE.pin);
      const page = await alice.employees({ limit: 5 });
      expect(page).to.include({ limit: 5, offset: 0, total: 35 });
      expect((await alice.employee('000010')).lastName).to.be.a('string');
      await rejection(alice.deleteEmployee('000010'), Forbidden);
      const staff = newClient();
      await staff.login(STAFF.account, STAFF.pin);
      const created = await staff.createEmployee({ empno: 'CL0001', firstName: 'Client', lastName: 'Kit', edLevel: 16 });
      expect(created).to.include({ empno: 'CL0001', job: null });
      expect(await staff.updateEmployee('CL0001', { job: 'ANALYST' })).to.include({ job: 'ANALYST', lastName: 'Kit' });
      await staff.deleteEmployee('CL0001');
      await rejection(staff.employee('CL0001'), NotFound);
      const invalid = await rejection(staff.createEmployee({ empno: 'bad', firstName: '', lastName: 'X', edLevel: 99 }), ValidationFailed);
      expect(invalid.errors.map((e) => e.path)).to.include.members(['empno', 'edLevel']);
    });

    it('fails with NotLoggedIn, sending nothing, before login and after logout', async () => {
      const client = newClient();
      await rejection(client.accounts(), NotLoggedIn);
      await client.login(ALICE.account, ALICE.pin);
      await client.logout();
      const sent = log.length;
      await rejection(client.accounts(), NotLoggedIn);
      expect(log.length).to.equal(sent);
      expect(await hostRows('SELECT * FROM host_session')).to.deep.equal([]);
      expect(changes).to.deep.equal(['login', 'logout']);
    });
  });

  describe('transfers', () => {
    it('signs each transfer with the device key over the fields it sends, and books it once', async () => {
      const client = newClient();
      await client.login(ALICE.account, ALICE.pin);
      const booked = await client.transfer({ fromAccount: ALICE.account, toAccount: BOB.account, amount: '25.00', reference: 'lunch' });
      expect(booked).to.include({ fromAccount: ALICE.account, toAccount: BOB.account, amount: '25.00', currency: 'EUR', reference: 'lunch', replayed: false });
      const sent = log.find((e) => e.path === '/api/transfers');
      expect(sent?.sent.get('idempotency-key')).to.equal(booked.idempotencyKey).and.match(/^[0-9a-f-]{36}$/);
      const signature = sent?.sent.get('transfer-signature') ?? '';
      const { payload } = await compactVerify(signature, await importJWK(await client.devicePublicKey(), 'ES256'));
      expect(JSON.parse(new TextDecoder().decode(payload))).to.deep.equal({
        fromAccount: ALICE.account, toAccount: BOB.account, amount: '25.00', currency: 'EUR',
        idempotencyKey: booked.idempotencyKey, iat: api.clock.now.getTime() / 1000,
      });
      expect(JSON.parse(sent?.body ?? '{}')).to.deep.equal({ bankId: 'DEMOBANK1', fromAccount: ALICE.account, toAccount: BOB.account, amount: '25.00', reference: 'lunch' });
      const again = await client.transfer({ fromAccount: ALICE.account, toAccount: BOB.account, amount: '25.00', reference: 'lunch', idempotencyKey: booked.idempotencyKey });
      expect(again).to.include({ transferId: booked.transferId, replayed: true });
      expect((await client.accounts())[0]?.balance).to.equal('975.00');
    });

    it('raises the typed error for each refusal, carrying the idempotency key', async () => {
      const client = newClient();
      await client.login(ALICE.account, ALICE.pin);
      const transfer = (amount: string, extra: { toAccount?: string; pin?: string } = {}) =>
        client.transfer({ fromAccount: ALICE.account, toAccount: BOB.account, amount, ...extra });
      const stepUp = await rejection(transfer('1500.00'), StepUpRequired);
      expect(stepUp).to.include({ status: 403, code: 'step_up_required' });
      expect(stepUp.idempotencyKey).to.match(/^[0-9a-f-]{36}$/);
      expect(await rejection(transfer('1500.00', { pin: ALICE.pin }), InsufficientFunds)).to.include({ status: 409, code: 'insufficient_funds' });
      expect(await rejection(transfer('5.00', { toAccount: ALICE.account }), TransferRefused)).to.include({ code: 'same_account' });
      expect(await rejection(transfer('5.00', { toAccount: '300000001' }), TransferRefused)).to.include({ code: 'unknown_account' });
      const invalid = await rejection(transfer('5.001'), ValidationFailed);
      expect(invalid.errors.map((e) => e.path)).to.deep.equal(['amount']);
      await rejection(client.transfer({ fromAccount: '200000001', toAccount: ALICE.account, amount: '5.00' }), NotFound);
    });

    it('raises LimitExceeded past the daily limit', async () => {
      const limited = await startApp({ TRANSFER_DAILY_AMOUNT: '50.00' }, { clock: api.clock });
      try {
        const client = new BankClient({ baseUrl: limited.url, now: api.clock.read });
        await client.login(ALICE.account, ALICE.pin);
        await client.transfer({ fromAccount: ALICE.account, toAccount: BOB.account, amount: '40.00' });
        expect(await rejection(client.transfer({ fromAccount: ALICE.account, toAccount: BOB.account, amount: '20.00' }), LimitExceeded))
          .to.include({ status: 422, code: 'limit_exceeded' });
      } finally {
        await limited.close();
      }
    });
  });

  describe('nonces, refresh and expiry', () => {
    it('follows the server to its next nonce when the window moves on, with one extra round trip', async () => {
      const client = newClient();
      await client.login(ALICE.account, ALICE.pin);
      api.clock.advance(121); // two nonce windows: the one the client holds is stale
      log.length = 0;
      await client.accounts();
      expect(lines(log)).to.deep.equal(['GET /api/accounts 401 use_dpop_nonce', 'GET /api/accounts 200']);
      await client.accounts();
      expect(lines(log).slice(2)).to.deep.equal(['GET /api/accounts 200']);
    });

    it('signs once more when its proof reached a replay memory begun after the proof was signed', async () => {
      // The service's replay memory restarts (an instance, or its store) a second after the
      // client signed its second proof and before that proof arrives: the memory cannot tell
      // whether the proof was used before it began, and refuses it as it must.
      const clock = new TestClock();
      let replays = new MemoryReplayCache(Math.floor(clock.now.getTime() / 1000));
      const state = memoryState({ loginsPerMinute: 100 }, clock.now);
      const restarting = await startApp({}, { clock, sharedState: { ...state, replays: { record: (proof, now) => replays.record(proof, now) } } });
      try {
        let sent = 0;
        const arriving: typeof fetch = (input, init) => {
          if (++sent === 2) {
            clock.advance(1);
            replays = new MemoryReplayCache(Math.floor(clock.now.getTime() / 1000));
          }
          return fetch(input, init);
        };
        const client = new BankClient({ baseUrl: restarting.url, now: clock.read, fetch: recordingFetch(log, arriving) });
        await client.login(ALICE.account, ALICE.pin);
        expect(lines(log)).to.deep.equal(['POST /api/auth/login 401 use_dpop_nonce', 'POST /api/auth/login 401 use_dpop_nonce', 'POST /api/auth/login 201']);
        expect(await client.accounts()).to.have.length.greaterThan(0);
      } finally {
        await restarting.close();
      }
    });

    it('gives up after three proofs refused in a row, with the typed error', async () => {
      const refusing = new BankClient({
        baseUrl: api.url, now: api.clock.read,
        fetch: recordingFetch(log, async () => new Response(JSON.stringify({ code: 'use_dpop_nonce', status: 401, title: 'Use the DPoP nonce', requestId: 'r' }), {
          status: 401, headers: { 'content-type': 'application/problem+json', 'dpop-nonce': 'n' },
        })),
      });
      expect(await rejection(refusing.login(ALICE.account, ALICE.pin), ProofRejected)).to.include({ status: 401, code: 'use_dpop_nonce' });
      expect(log).to.have.length(3);
    });

    it('refreshes a token that would end before its session, before it ends, and only then', async () => {
      // A service whose tokens live two minutes: the login answer says so.
      const shortTokens: typeof fetch = async (input, init) => {
        const response = await fetch(input, init);
        if (!String(input).endsWith('/api/auth/login') || response.status !== 201) return response;
        const body = await response.json() as { expiresAt: string };
        body.expiresAt = new Date(api.clock.now.getTime() + 120_000).toISOString();
        return new Response(JSON.stringify(body), { status: 201, headers: response.headers });
      };
      const client = newClient({ fetch: recordingFetch(log, shortTokens) });
      await client.login(ALICE.account, ALICE.pin);
      api.clock.advance(50);
      await client.accounts();
      expect(lines(log).filter((l) => l.includes('refresh'))).to.deep.equal([]);
      api.clock.advance(20); // 50 s left: inside the 60 s margin
      log.length = 0;
      await client.accounts();
      expect(lines(log)).to.deep.equal(['POST /api/auth/refresh 200', 'GET /api/accounts 200']);
      expect(changes).to.deep.equal(['login', 'refresh']);
      // The new token lives as long as the session: no refresh again.
      api.clock.advance(240);
      await client.accounts();
      expect(lines(log).filter((l) => l.includes('refresh'))).to.have.length(1);
    });

    it('does not refresh a token that lives as long as its session', async () => {
      const client = newClient();
      await client.login(ALICE.account, ALICE.pin);
      for (let i = 0; i < 14; i++) {
        api.clock.advance(250);
        await client.accounts();
      }
      expect(lines(log).filter((l) => l.includes('refresh'))).to.deep.equal([]);
    });

    it('notices the idle timeout on its own clock: SessionExpired, no request, the session forgotten', async () => {
      const client = newClient();
      await client.login(ALICE.account, ALICE.pin);
      await client.accounts();
      expect(client.idleExpiresAt?.toISOString()).to.equal(new Date(api.clock.now.getTime() + 300_000).toISOString());
      api.clock.advance(301);
      const sent = log.length;
      const expired = await rejection(client.accounts(), SessionExpired);
      expect(expired).to.include({ status: 401, code: 'session_expired' });
      expect(log.length).to.equal(sent);
      expect(client.session).to.equal(null);
      expect(changes).to.deep.equal(['login', 'expired']);
      await rejection(client.accounts(), SessionExpired);
      expect(log.length, 'still nothing sent').to.equal(sent);
      await client.logout(); // the app acknowledges: from now on the client is simply logged out
      await rejection(client.accounts(), NotLoggedIn);
    });

    it('takes the server\u2019s word when the session ended elsewhere (logged out on another device)', async () => {
      const phone = newClient();
      await phone.login(ALICE.account, ALICE.pin, { deviceLabel: 'phone' });
      const laptop = newClient();
      await laptop.login(ALICE.account, ALICE.pin, { deviceLabel: 'laptop' });
      expect(await laptop.logoutEverywhere()).to.equal(2);
      const expired = await rejection(phone.accounts(), SessionExpired);
      expect(expired.problem.requestId).to.be.a('string').and.not.equal('');
      expect(phone.session).to.equal(null);
    });

    it('logs in again through reauthenticate and carries on with the calls, asking once for many', async () => {
      let asked = 0;
      const keyStore = new MemoryKeyStore();
      const client = newClient({
        keyStore,
        reauthenticate: async () => {
          asked++;
          return { account: ALICE.account, pin: ALICE.pin };
        },
      });
      await client.login(ALICE.account, ALICE.pin, { deviceLabel: 'phone' });
      const thumbprint = await client.deviceThumbprint();
      api.clock.advance(301);
      const [accounts, sessions] = await Promise.all([client.accounts(), client.sessions()]);
      expect(accounts).to.have.length(2);
      expect(asked).to.equal(1);
      expect(sessions.map((s) => [s.device, s.current])).to.deep.equal([['phone', true]]);
      expect(await client.deviceThumbprint()).to.equal(thumbprint);
      expect(changes).to.deep.equal(['login', 'expired', 'login']);
      const bound = await hostRows('SELECT DISTINCT jkt FROM host_session');
      expect(bound, 'the expired session and the new one: one device key').to.deep.equal([{ jkt: await calculateJwkThumbprint(await client.devicePublicKey()) }]);
    });
  });

  describe('devices', () => {
    it('lists the customer\u2019s sessions, ends another one, and ending its own is a logout', async () => {
      const phone = newClient();
      await phone.login(ALICE.account, ALICE.pin, { deviceLabel: 'phone' });
      api.clock.advance(1);
      const laptop = newClient();
      await laptop.login(ALICE.account, ALICE.pin, { deviceLabel: 'laptop' });
      const devices = await phone.sessions();
      expect(devices.map((d) => [d.device, d.bound, d.current])).to.deep.equal([['phone', true, true], ['laptop', true, false]]);
      await phone.endSession(devices[1]?.ref ?? '');
      await rejection(laptop.accounts(), SessionExpired);
      await phone.endSession(devices[0]?.ref ?? '');
      expect(phone.session).to.equal(null);
      expect(changes).to.deep.equal(['login', 'login', 'expired', 'logout']);
      await rejection(phone.endSession('0123456789abcdef'), NotLoggedIn);
      await rejection(laptop.accounts(), SessionExpired);
    });
  });
});
