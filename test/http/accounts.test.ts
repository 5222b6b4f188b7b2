// Accounts, transactions and transfers, protected by ownership and the bank identifier.
import { expect } from 'chai';
import { hostRow, hostRows, resetHost } from '../support/host.js';
import { ALICE, BOB, CAROL, startApp, type TestApp } from '../support/app.js';
import { expectProblem } from '../support/expect.js';

let keyCounter = 0;
const newKey = () => `test-key-${Date.now()}-${++keyCounter}`;

/** The demo data's money: four accounts at 1000.00 and Alice's savings at 5000.00. */
const OPENING_TOTAL = '9000.00';

async function totalBalance(): Promise<string> {
  return String((await hostRow('SELECT CAST(SUM(balance) AS VARCHAR(32)) AS total FROM account')).total);
}

describe('accounts and transfers', () => {
  let api: TestApp;
  let alice: string;
  let bob: string;

  before(async () => {
    api = await startApp();
  });
  after(() => api.close());
  beforeEach(async () => {
    await resetHost();
    alice = await api.login(ALICE.account, ALICE.pin);
    bob = await api.login(BOB.account, BOB.pin);
  });

  const transfer = (token: string, body: Record<string, unknown>, key: string | null = newKey()) =>
    api.request('POST', '/api/transfers', { token, body, headers: key === null ? {} : { 'Idempotency-Key': key } });
  const aliceToBob = (amount: string, extra: Record<string, unknown> = {}) =>
    ({ bankId: 'DEMOBANK1', fromAccount: ALICE.account, toAccount: BOB.account, amount, ...extra });
  const balance = async (token: string, accountId: string) => {
    const response = await api.request('GET', '/api/accounts', { token });
    return response.body.items.find((a: { accountId: string }) => a.accountId === accountId)?.balance as string;
  };

  describe('GET /api/accounts', () => {
    it('lists only the session customer\u2019s accounts, money as strings', async () => {
      const response = await api.request('GET', '/api/accounts', { token: alice });
      expect(response.status).to.equal(200);
      expect(response.body).to.deep.equal({
        items: [
          { accountId: '100000001', bankId: 'DEMOBANK1', kind: 'current', currency: 'EUR', balance: '1000.00' },
          { accountId: '100000002', bankId: 'DEMOBANK1', kind: 'savings', currency: 'EUR', balance: '5000.00' },
        ],
      });
    });

    it('needs a token', async () => {
      expectProblem(await api.request('GET', '/api/accounts'), 401, 'invalid_token');
    });
  });

  describe('POST /api/transfers', () => {
    it('books both legs: balances and transaction lists are right in both accounts', async () => {
      const response = await transfer(alice, aliceToBob('250.75', { reference: 'Rent' }));
      expect(response.status).to.equal(201);
      expect(response.body).to.include({ fromAccount: ALICE.account, toAccount: BOB.account, amount: '250.75', currency: 'EUR', reference: 'Rent' });
      expect(response.body.transferId).to.match(/^[0-9a-f-]{36}$/);
      expect(response.body.bookedAt).to.equal(api.clock.now.toISOString());
      expect(await balance(alice, ALICE.account)).to.equal('749.25');
      expect(await balance(bob, BOB.account)).to.equal('1250.75');

      const aliceTx = await api.request('GET', `/api/accounts/${ALICE.account}/transactions`, { token: alice });
      expect(aliceTx.body.items[0]).to.include({ amount: '-250.75', balanceAfter: '749.25', counterparty: BOB.account, reference: 'Rent' });
      expect(aliceTx.body.items[1]).to.include({ amount: '1000.00', balanceAfter: '1000.00', reference: 'Opening balance' });
      const bobTx = await api.request('GET', `/api/accounts/${BOB.account}/transactions`, { token: bob });
      expect(bobTx.body.items[0]).to.include({ amount: '250.75', balanceAfter: '1250.75', counterparty: ALICE.account });
      expect(await totalBalance()).to.equal(OPENING_TOTAL);
    });

    it('moves money between a customer\u2019s own accounts', async () => {
      expect((await transfer(alice, aliceToBob('10.00', { toAccount: ALICE.savings }))).status).to.equal(201);
      expect(await balance(alice, ALICE.savings)).to.equal('5010.00');
    });

    it('replays the same Idempotency-Key and body: same transferId, nothing booked twice', async () => {
      const key = newKey();
      const first = await transfer(alice, aliceToBob('100.00'), key);
      api.clock.advance(5);
      const again = await transfer(alice, aliceToBob('100'), key);
      expect(again.status).to.equal(201);
      expect(again.body).to.deep.equal(first.body);
      expect(again.headers.get('idempotent-replayed')).to.equal('true');
      expect(await balance(alice, ALICE.account)).to.equal('900.00');
      const entries = await hostRow('SELECT COUNT(*) AS n FROM ledger_entry WHERE transfer_id = ?', [first.body.transferId]);
      expect(Number(entries.n)).to.equal(2);
    });

    it('is 422 idempotency_key_reused for the same key with another body', async () => {
      const key = newKey();
      await transfer(alice, aliceToBob('100.00'), key);
      expectProblem(await transfer(alice, aliceToBob('100.01'), key), 422, 'idempotency_key_reused');
      expect(await balance(alice, ALICE.account)).to.equal('900.00');
    });

    it('scopes idempotency keys per customer', async () => {
      const key = newKey();
      expect((await transfer(alice, aliceToBob('1.00'), key)).status).to.equal(201);
      const bobs = await transfer(bob, { bankId: 'DEMOBANK1', fromAccount: BOB.account, toAccount: ALICE.account, amount: '1.00' }, key);
      expect(bobs.status).to.equal(201);
      expect(bobs.headers.get('idempotent-replayed')).to.equal('false');
    });

    it('is 400 without an Idempotency-Key, or with one too short or too long', async () => {
      expectProblem(await transfer(alice, aliceToBob('1.00'), null), 400, 'validation_failed');
      expectProblem(await transfer(alice, aliceToBob('1.00'), 'short'), 400, 'validation_failed');
      expectProblem(await transfer(alice, aliceToBob('1.00'), 'k'.repeat(65)), 400, 'validation_failed');
      expect(await balance(alice, ALICE.account)).to.equal('1000.00');
    });

    it('is 403 bank_mismatch when bankId is not the session\u2019s bank', async () => {
      expectProblem(await transfer(alice, aliceToBob('1.00', { bankId: 'DEMOBANK2' })), 403, 'bank_mismatch');
      expect(await balance(alice, ALICE.account)).to.equal('1000.00');
    });

    it('is 404 for someone else\u2019s source account, exactly like a missing one', async () => {
      const others = await transfer(alice, aliceToBob('1.00', { fromAccount: BOB.account, toAccount: ALICE.account }));
      const missing = await transfer(alice, aliceToBob('1.00', { fromAccount: '100000099', toAccount: ALICE.account }));
      expectProblem(others, 404, 'not_found');
      expectProblem(missing, 404, 'not_found');
      expect({ ...others.body, requestId: 0 }).to.deep.equal({ ...missing.body, requestId: 0 });
      expect(await balance(bob, BOB.account)).to.equal('1000.00');
    });

    for (const amount of ['0', '0.00', '-5.00', '1.005', '1e3', ' 1.00', '', '1,00']) {
      it(`is 400 for amount "${amount}"`, async () => {
        expectProblem(await transfer(alice, aliceToBob(amount)), 400, 'validation_failed');
      });
    }

    it('is 400 for a numeric amount (money is never a float)', async () => {
      expectProblem(await transfer(alice, aliceToBob(10 as unknown as string)), 400, 'validation_failed');
    });

    it('is 409 insufficient_funds, and books nothing', async () => {
      expectProblem(await transfer(alice, aliceToBob('1000.01', { pin: ALICE.pin })), 409, 'insufficient_funds');
      expect(await balance(alice, ALICE.account)).to.equal('1000.00');
      expect((await transfer(alice, aliceToBob('1000.00'))).status).to.equal(201);
      expect(await balance(alice, ALICE.account)).to.equal('0.00');
    });

    it('is 422 currency_mismatch between accounts of different currencies', async () => {
      await hostRows("UPDATE account SET currency = 'USD' WHERE account_id = ?", [BOB.account]);
      expectProblem(await transfer(alice, aliceToBob('1.00')), 422, 'currency_mismatch');
      expect(await balance(alice, ALICE.account)).to.equal('1000.00');
    });

    it('is 422 for an unknown target account or the same account twice', async () => {
      expectProblem(await transfer(alice, aliceToBob('1.00', { toAccount: '555555555' })), 422, 'unknown_account');
      expectProblem(await transfer(alice, aliceToBob('1.00', { toAccount: ALICE.account })), 422, 'same_account');
    });

    it('lets a rejected request\u2019s key be used again once corrected', async () => {
      const key = newKey();
      expectProblem(await transfer(alice, aliceToBob('5000.00', { pin: ALICE.pin }), key), 409, 'insufficient_funds');
      expect((await transfer(alice, aliceToBob('50.00'), key)).status).to.equal(201);
    });

    it('never overdraws: 40 concurrent transfers, exactly the affordable ones succeed', async () => {
      const responses = await Promise.all(Array.from({ length: 40 }, () => transfer(alice, aliceToBob('30.00'))));
      const statuses = responses.map((r) => r.status);
      expect(statuses.filter((s) => s === 201)).to.have.length(33); // 33 × 30.00 = 990.00 of 1000.00
      expect(statuses.filter((s) => s === 409)).to.have.length(7);
      expect(await balance(alice, ALICE.account)).to.equal('10.00');
      expect(await balance(bob, BOB.account)).to.equal('1990.00');
      expect(await totalBalance()).to.equal(OPENING_TOTAL);
      const ids = new Set(responses.filter((r) => r.status === 201).map((r) => r.body.transferId));
      expect(ids.size).to.equal(33);
    });

    it('books a concurrent retry storm with one key exactly once', async () => {
      const key = newKey();
      const responses = await Promise.all(Array.from({ length: 10 }, () => transfer(alice, aliceToBob('70.00'), key)));
      expect(responses.every((r) => r.status === 201)).to.equal(true);
      expect(new Set(responses.map((r) => r.body.transferId)).size).to.equal(1);
      expect(await balance(alice, ALICE.account)).to.equal('930.00');
    });

    it('keeps money exact in both directions at once (no deadlock, no lost update)', async () => {
      const there = Array.from({ length: 15 }, () => transfer(alice, aliceToBob('7.00')));
      const back = Array.from({ length: 15 }, () => transfer(bob, { bankId: 'DEMOBANK1', fromAccount: BOB.account, toAccount: ALICE.account, amount: '3.00' }));
      const responses = await Promise.all([...there, ...back]);
      expect(responses.every((r) => r.status === 201), responses.map((r) => r.status).join()).to.equal(true);
      expect(await balance(alice, ALICE.account)).to.equal('940.00');
      expect(await balance(bob, BOB.account)).to.equal('1060.00');
    });
  });

  describe('payees: one bank\u2019s ledger, no account-number oracle', () => {
    /** Seconds from the test clock to the next UTC midnight, when a customer's transfer day ends. */
    const untilMidnight = () => 86_400 - Math.floor((api.clock.now.getTime() % 86_400_000) / 1000);

    it('answers a target in another bank exactly as an unknown account, and books nothing', async () => {
      const foreign = await transfer(alice, aliceToBob('10.00', { toAccount: CAROL.account })); // DEMOBANK2
      const unknown = await transfer(alice, aliceToBob('10.00', { toAccount: '555555555' }));
      expectProblem(foreign, 422, 'unknown_account');
      expectProblem(unknown, 422, 'unknown_account');
      expect({ ...foreign.body, requestId: 0 }).to.deep.equal({ ...unknown.body, requestId: 0 });
      expect(await totalBalance()).to.equal(OPENING_TOTAL);
      expect(await balance(alice, ALICE.account)).to.equal('1000.00');
      const carol = await api.login(CAROL.account, CAROL.pin);
      const intoDemobank1 = await transfer(carol, { bankId: 'DEMOBANK2', fromAccount: CAROL.account, toAccount: BOB.account, amount: '1.00' });
      expectProblem(intoDemobank1, 422, 'unknown_account'); // and back: no crossing either way
    });

    it('checks the payee before the balance: a huge amount tells nothing about whether an account exists', async () => {
      const huge = { amount: '9999999.00', pin: ALICE.pin };
      expectProblem(await transfer(alice, aliceToBob('0', { ...huge, toAccount: '555555555' })), 422, 'unknown_account');
      expectProblem(await transfer(alice, aliceToBob('0', { ...huge, toAccount: CAROL.account })), 422, 'unknown_account');
      expectProblem(await transfer(alice, aliceToBob('0', huge)), 409, 'insufficient_funds'); // a payee of the bank: the customer may know it
    });

    it('blocks every transfer of a customer after too many failed payee checks in a day, on every instance, until the day ends', async () => {
      const strict = await startApp({ PAYEE_CHECK_MAX_FAILURES: '3' }, { clock: api.clock });
      const other = await startApp({ PAYEE_CHECK_MAX_FAILURES: '3' }, { clock: api.clock });
      try {
        const probe = (instance: TestApp, toAccount: string) => instance.request('POST', '/api/transfers', {
          token: alice, body: aliceToBob('1.00', { toAccount }), headers: { 'Idempotency-Key': newKey() },
        });
        for (const number of ['555555551', '555555552']) expectProblem(await probe(strict, number), 422, 'unknown_account');
        expectProblem(await probe(other, CAROL.account), 422, 'unknown_account'); // the third, counted on the host
        for (const instance of [strict, other]) {
          for (const target of ['555555553', BOB.account]) {
            const blocked = await probe(instance, target);
            expectProblem(blocked, 429, 'payee_checks_exhausted');
            expect(blocked.headers.get('retry-after')).to.equal(String(untilMidnight()));
          }
        }
        expect((await strict.request('POST', '/api/transfers', {
          token: bob, body: { bankId: 'DEMOBANK1', fromAccount: BOB.account, toAccount: ALICE.account, amount: '1.00' }, headers: { 'Idempotency-Key': newKey() },
        })).status, 'another customer is not blocked').to.equal(201);
        api.clock.advance(untilMidnight() - 1);
        alice = await api.login(ALICE.account, ALICE.pin);
        expectProblem(await probe(strict, BOB.account), 429, 'payee_checks_exhausted');
        api.clock.advance(1);
        expect((await probe(strict, BOB.account)).status, 'a new day').to.equal(201);
      } finally {
        await strict.close();
        await other.close();
      }
    });
  });

  describe('velocity limits on the host (OWASP API6)', () => {
    it('refuses a transfer past the daily count or amount with 422 limit_exceeded, and audits it', async () => {
      const limited = await startApp({ TRANSFER_DAILY_COUNT: '2', TRANSFER_DAILY_AMOUNT: '100.00' }, { clock: api.clock });
      try {
        const send = (amount: string) => limited.request('POST', '/api/transfers', { token: alice, body: aliceToBob(amount), headers: { 'Idempotency-Key': newKey() } });
        expect((await send('60.00')).status).to.equal(201);
        expectProblem(await send('40.01'), 422, 'limit_exceeded');
        expect((await send('40.00')).status).to.equal(201);
        expectProblem(await send('0.01'), 422, 'limit_exceeded'); // count and amount both at their limit now
        expect(await balance(alice, ALICE.account)).to.equal('900.00');
        const audited = await hostRows("SELECT outcome FROM audit_log WHERE event = 'transfer' AND outcome = 'limit_exceeded'");
        expect(audited).to.have.length(2);
      } finally {
        await limited.close();
      }
    });

    it('holds the amount limit under 12 concurrent transfers: exactly the ones that fit are booked', async () => {
      const limited = await startApp({ TRANSFER_DAILY_AMOUNT: '100.00' }, { clock: api.clock });
      try {
        const responses = await Promise.all(Array.from({ length: 12 }, () => limited.request('POST', '/api/transfers', {
          token: alice, body: aliceToBob('20.00'), headers: { 'Idempotency-Key': newKey() },
        })));
        expect(responses.filter((r) => r.status === 201)).to.have.length(5);
        expect(responses.filter((r) => r.status === 422 && r.body.code === 'limit_exceeded')).to.have.length(7);
        expect(await balance(alice, ALICE.account)).to.equal('900.00');
      } finally {
        await limited.close();
      }
    });
  });

  describe('step-up: the PIN again above STEP_UP_AMOUNT', () => {
    let strict: TestApp;
    beforeEach(async () => {
      strict = await startApp({ STEP_UP_AMOUNT: '100.00', LOGIN_MAX_FAILURES: '3' }, { clock: api.clock });
    });
    afterEach(() => strict.close());
    const send = (body: Record<string, unknown>) =>
      strict.request('POST', '/api/transfers', { token: alice, body, headers: { 'Idempotency-Key': newKey() } });

    it('asks for the PIN above the amount, before any host call; at or below it, it needs none', async () => {
      const before = strict.host.stats().calls.transfer ?? 0;
      expectProblem(await send(aliceToBob('100.01')), 403, 'step_up_required');
      expect(strict.host.stats().calls.transfer ?? 0).to.equal(before);
      expect((await send(aliceToBob('100.00'))).status).to.equal(201);
    });

    it('books with the right PIN and records the step-up in the audit row, never the PIN', async () => {
      const response = await send(aliceToBob('150.00', { pin: ALICE.pin }));
      expect(response.status).to.equal(201);
      const [row] = await hostRows("SELECT detail FROM audit_log WHERE event = 'transfer' AND outcome = 'ok'");
      expect(String(row?.detail)).to.include('bearer+pin').and.not.include(ALICE.pin);
    });

    it('refuses a wrong PIN, counts it toward the login lockout, and then locks transfers and logins alike', async () => {
      expectProblem(await send(aliceToBob('150.00', { pin: '00000' })), 403, 'step_up_failed');
      expectProblem(await send(aliceToBob('150.00', { pin: '00001' })), 403, 'step_up_failed');
      expectProblem(await send(aliceToBob('150.00', { pin: '00002' })), 403, 'step_up_failed'); // the third: locked now
      const locked = await send(aliceToBob('150.00', { pin: ALICE.pin }));
      expectProblem(locked, 423, 'account_locked');
      expect(Number(locked.headers.get('retry-after'))).to.be.within(1, 900);
      expectProblem(await strict.request('POST', '/api/auth/login', { body: { account: ALICE.account, pin: ALICE.pin } }), 423, 'account_locked');
      expect(await balance(alice, ALICE.account)).to.equal('1000.00');
    });
  });

  describe('GET /api/accounts/{accountId}/transactions', () => {
    it('pages newest first with a cursor until nextCursor is null', async () => {
      for (let i = 1; i <= 5; i++) {
        api.clock.advance(1);
        await transfer(alice, aliceToBob(`${i}.00`, { reference: `r${i}` }));
      }
      const first = await api.request('GET', `/api/accounts/${ALICE.account}/transactions?limit=2`, { token: alice });
      expect(first.body.items.map((t: { reference: string }) => t.reference)).to.deep.equal(['r5', 'r4']);
      expect(first.body.nextCursor).to.be.a('string');
      const second = await api.request('GET', `/api/accounts/${ALICE.account}/transactions?limit=2&cursor=${first.body.nextCursor}`, { token: alice });
      expect(second.body.items.map((t: { reference: string }) => t.reference)).to.deep.equal(['r3', 'r2']);
      const third = await api.request('GET', `/api/accounts/${ALICE.account}/transactions?limit=2&cursor=${second.body.nextCursor}`, { token: alice });
      expect(third.body.items.map((t: { reference: string }) => t.reference)).to.deep.equal(['r1', 'Opening balance']);
      expect(third.body.nextCursor).to.equal(null);
      expect(third.body.items[0]).to.include({ amount: '-1.00', balanceAfter: '999.00' });
    });

    it('is 404 for another customer\u2019s account, exactly like a missing one', async () => {
      const others = await api.request('GET', `/api/accounts/${CAROL.account}/transactions`, { token: alice });
      const missing = await api.request('GET', '/api/accounts/100000099/transactions', { token: alice });
      expectProblem(others, 404, 'not_found');
      expectProblem(missing, 404, 'not_found');
      expect({ ...others.body, requestId: 0 }).to.deep.equal({ ...missing.body, requestId: 0 });
    });

    it('is 400 for a bad limit or a forged cursor', async () => {
      expectProblem(await api.request('GET', `/api/accounts/${ALICE.account}/transactions?limit=0`, { token: alice }), 400, 'validation_failed');
      expectProblem(await api.request('GET', `/api/accounts/${ALICE.account}/transactions?cursor=abc`, { token: alice }), 400, 'validation_failed');
      expectProblem(await api.request('GET', `/api/accounts/${ALICE.account}/transactions?cursor=${Buffer.from("k:1' OR 1=1").toString('base64url')}`, { token: alice }), 400, 'validation_failed');
    });

    it('is 400 for a cursor whose key overflows a BIGINT, and pages from the largest one that fits', async () => {
      const cursor = (key: string) => Buffer.from(`k:${key}`).toString('base64url');
      const overflow = await api.request('GET', `/api/accounts/${ALICE.account}/transactions?cursor=${cursor('9999999999999999999')}`, { token: alice });
      expectProblem(overflow, 400, 'validation_failed');
      expect(overflow.body.errors).to.deep.equal([{ path: 'query.cursor', message: 'is not a valid cursor' }]);
      const largest = await api.request('GET', `/api/accounts/${ALICE.account}/transactions?cursor=${cursor('9223372036854775807')}`, { token: alice });
      expect(largest.status).to.equal(200);
      expect(largest.body.items).to.have.length(1); // the opening balance
    });
  });
});
