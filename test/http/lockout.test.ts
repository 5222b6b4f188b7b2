// The login lockout on the host: it holds under any concurrency (each attempt
// takes its guard row's lock before a PIN is compared), and failures count
// per device bucket, so a stranger who knows an account number locks only
// logins from unknown devices, never the customer's own phone.
import { expect } from 'chai';
import { hostRow, hostRows, resetHost } from '../support/host.js';
import { ALICE, BOB, startApp, type TestApp } from '../support/app.js';
import { expectProblem } from '../support/expect.js';
import { TestDevice } from '../support/dpop.js';

const MAX_FAILURES = 5;
const BURST = 30;

/** What the host's audit trail says was evaluated for an account: one row per attempt. */
async function loginOutcomes(account: string): Promise<Record<string, number>> {
  const rows = await hostRows("SELECT outcome, COUNT(*) AS n FROM audit_log WHERE event = 'login' AND account_id = ? GROUP BY outcome", [account]);
  return Object.fromEntries(rows.map((row) => [String(row.outcome), Number(row.n)]));
}

async function lockDetails(account: string): Promise<string[]> {
  const rows = await hostRows("SELECT detail FROM audit_log WHERE account_id = ? AND detail LIKE 'locked for%' ORDER BY audit_id", [account]);
  return rows.map((row) => String(row.detail));
}

describe('the login lockout', () => {
  let api: TestApp;
  let other: TestApp;
  const env = { LOGIN_MAX_FAILURES: String(MAX_FAILURES), LOGIN_LOCK_SECONDS: '900', SESSION_BINDING: 'optional' };

  beforeEach(async () => {
    await resetHost();
    api = await startApp(env);
    other = await startApp(env, { clock: api.clock }); // a second instance on the same host
  });
  afterEach(async () => {
    await api.close();
    await other.close();
  });

  const login = (instance: TestApp, account: string, pin: string) =>
    instance.request('POST', '/api/auth/login', { body: { account, pin } });

  describe(`${BURST} concurrent wrong PINs on one account, over two instances`, () => {
    for (let round = 1; round <= 3; round++) {
      it(`compares at most LOGIN_MAX_FAILURES of them, and the account stays locked (burst ${round} of 3)`, async () => {
        const answers = await Promise.all(Array.from({ length: BURST }, (_, i) => login(i % 2 ? other : api, BOB.account, '00000')));
        const statuses = answers.map((answer) => answer.status);
        expect(statuses.filter((s) => s === 401), statuses.join()).to.have.length(MAX_FAILURES);
        expect(statuses.filter((s) => s === 423), statuses.join()).to.have.length(BURST - MAX_FAILURES);
        expect(await loginOutcomes(BOB.account)).to.deep.equal({ invalid_credentials: MAX_FAILURES, locked: BURST - MAX_FAILURES });
        expect(await lockDetails(BOB.account)).to.deep.equal(['locked for 900 s, unknown devices']);
        expectProblem(await login(api, BOB.account, BOB.pin), 423, 'account_locked');
        const guard = await hostRow('SELECT locked_until FROM login_guard WHERE account_id = ?', [BOB.account]);
        expect(new Date(String(guard.locked_until)).getTime()).to.equal(api.clock.now.getTime() + 900_000);
      });
    }

    it('holds for an unknown account number too: the lockout is still no oracle', async () => {
      const answers = await Promise.all(Array.from({ length: BURST }, (_, i) => login(i % 2 ? other : api, '123456789', '00000')));
      expect(answers.filter((a) => a.status === 401)).to.have.length(MAX_FAILURES);
      expect(await loginOutcomes('123456789')).to.deep.equal({ invalid_credentials: MAX_FAILURES, locked: BURST - MAX_FAILURES });
    });
  });

  describe('wrong step-up PINs, concurrently', () => {
    it(`compares at most LOGIN_MAX_FAILURES of ${BURST} transfers' PINs, then transfers and logins are locked`, async () => {
      const token = await api.login(ALICE.account, ALICE.pin);
      const transfer = (instance: TestApp, i: number) => instance.request('POST', '/api/transfers', {
        token,
        headers: { 'Idempotency-Key': `step-up-burst-${i}` },
        body: { bankId: 'DEMOBANK1', fromAccount: ALICE.account, toAccount: BOB.account, amount: '1500.00', pin: '00000' },
      });
      const answers = await Promise.all(Array.from({ length: BURST }, (_, i) => transfer(i % 2 ? other : api, i)));
      const codes = answers.map((answer) => String(answer.body.code));
      expect(codes.filter((c) => c === 'step_up_failed'), codes.join()).to.have.length(MAX_FAILURES);
      expect(codes.filter((c) => c === 'account_locked'), codes.join()).to.have.length(BURST - MAX_FAILURES);
      const audited = await hostRows("SELECT outcome, COUNT(*) AS n FROM audit_log WHERE event = 'transfer' GROUP BY outcome");
      expect(Object.fromEntries(audited.map((row) => [row.outcome, Number(row.n)])))
        .to.deep.equal({ step_up_failed: MAX_FAILURES, account_locked: BURST - MAX_FAILURES });
      expectProblem(await login(api, ALICE.account, ALICE.pin), 423, 'account_locked');
      expect(await hostRows("SELECT 1 FROM ledger_entry WHERE reference IS DISTINCT FROM 'Opening balance'")).to.deep.equal([]);
    });
  });

  describe('device buckets: a stranger cannot lock the customer\u2019s own phone', () => {
    let phone: TestDevice;

    beforeEach(async () => {
      phone = await TestDevice.create();
      await api.loginAs(phone, ALICE.account, ALICE.pin, 'Alice\u2019s phone'); // a known device from now on
    });

    it('locks anonymous logins after LOGIN_MAX_FAILURES while the known phone logs in with the right PIN', async () => {
      const attacker = await Promise.all(Array.from({ length: BURST }, (_, i) => login(i % 2 ? other : api, ALICE.account, '00000')));
      expect(attacker.filter((a) => a.status === 401)).to.have.length(MAX_FAILURES);
      expectProblem(await login(api, ALICE.account, ALICE.pin), 423, 'account_locked'); // even the right PIN, from a stranger
      const stranger = await TestDevice.create(); // a key that never logged in is a stranger too
      const strangerLogin = await api.requestAs(stranger, 'POST', '/api/auth/login', { body: { account: ALICE.account, pin: ALICE.pin } });
      expectProblem(strangerLogin, 423, 'account_locked');

      const phoneLogin = await api.requestAs(phone, 'POST', '/api/auth/login', { body: { account: ALICE.account, pin: ALICE.pin } });
      expect(phoneLogin.status, phoneLogin.text).to.equal(201);
      expect(await lockDetails(ALICE.account)).to.deep.equal(['locked for 900 s, unknown devices']);
    });

    it('gives a stolen phone at most LOGIN_MAX_FAILURES tries, however many it sends at once, and audits its own bucket', async () => {
      const tries = await Promise.all(Array.from({ length: BURST }, (_, i) =>
        (i % 2 ? other : api).requestAs(phone, 'POST', '/api/auth/login', { body: { account: ALICE.account, pin: '00000' } })));
      const statuses = tries.map((t) => t.status);
      expect(statuses.filter((s) => s === 401), statuses.join()).to.have.length(MAX_FAILURES);
      expect(statuses.filter((s) => s === 423), statuses.join()).to.have.length(BURST - MAX_FAILURES);
      const phoneLogin = await api.requestAs(phone, 'POST', '/api/auth/login', { body: { account: ALICE.account, pin: ALICE.pin } });
      expectProblem(phoneLogin, 423, 'account_locked');
      expect(await lockDetails(ALICE.account)).to.deep.equal(['locked for 900 s, known device']);
      // The customer, from another device, is not locked out by the thief.
      expect((await login(api, ALICE.account, ALICE.pin)).status).to.equal(201);
    });

    it('counts a known phone\u2019s wrong step-up PINs in its own bucket', async () => {
      const token = await api.loginAs(phone, ALICE.account, ALICE.pin);
      for (let i = 0; i < MAX_FAILURES; i++) {
        const idempotencyKey = `phone-step-up-${i}`;
        const signature = await phone.signTransfer({
          fromAccount: ALICE.account, toAccount: BOB.account, amount: '1500.00', currency: 'EUR', idempotencyKey,
        }, Math.floor(api.clock.now.getTime() / 1000));
        const answer = await api.requestAs(phone, 'POST', '/api/transfers', {
          token,
          headers: { 'Idempotency-Key': idempotencyKey, 'Transfer-Signature': signature },
          body: { bankId: 'DEMOBANK1', fromAccount: ALICE.account, toAccount: BOB.account, amount: '1500.00', pin: '00000' },
        });
        expectProblem(answer, 403, 'step_up_failed');
      }
      const relogin = await api.requestAs(phone, 'POST', '/api/auth/login', { body: { account: ALICE.account, pin: ALICE.pin } });
      expectProblem(relogin, 423, 'account_locked');
      expect((await login(api, ALICE.account, ALICE.pin)).status).to.equal(201);
      const [detail] = (await hostRows("SELECT detail FROM audit_log WHERE event = 'transfer' ORDER BY audit_id DESC")).map((row) => String(row.detail));
      expect(detail).to.match(/, locked for 900 s, known device$/);
    });

    it('forgets a device whose session the customer ended: its failures then count with strangers\u2019', async () => {
      const laptop = await api.login(ALICE.account, ALICE.pin);
      const phoneRef = (await api.request('GET', '/api/auth/sessions', { token: laptop })).body.items
        .find((s: { bound: boolean }) => s.bound).ref as string;
      expect((await api.request('DELETE', `/api/auth/sessions/${phoneRef}`, { token: laptop })).status).to.equal(204);
      expect(await hostRows('SELECT jkt FROM known_device')).to.deep.equal([]);
      for (let i = 0; i < MAX_FAILURES; i++) await login(api, ALICE.account, '00000');
      const phoneLogin = await api.requestAs(phone, 'POST', '/api/auth/login', { body: { account: ALICE.account, pin: ALICE.pin } });
      expectProblem(phoneLogin, 423, 'account_locked');
    });

    it('remembers the key by its thumbprint on the host, and a success resets only its own bucket', async () => {
      const known = await hostRows('SELECT account_id, jkt FROM known_device');
      expect(known).to.have.length(1);
      expect(known[0]).to.include({ account_id: ALICE.account });
      expect(String(known[0]?.jkt)).to.match(/^[A-Za-z0-9_-]{43}$/);
      for (let i = 0; i < MAX_FAILURES - 1; i++) await login(api, ALICE.account, '00000');
      expect((await api.requestAs(phone, 'POST', '/api/auth/login', { body: { account: ALICE.account, pin: ALICE.pin } })).status).to.equal(201);
      expectProblem(await login(api, ALICE.account, '00000'), 401, 'invalid_credentials');
      expectProblem(await login(api, ALICE.account, ALICE.pin), 423, 'account_locked'); // the phone's success did not reset the strangers' count
    });
  });
});
