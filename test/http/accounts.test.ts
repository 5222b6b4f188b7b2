// Accounts, transactions and transfers, protected by ownership and the bank identifier.
import { expect } from 'chai';
import { hostRows, resetHost } from '../support/host.js';
import { ALICE, BOB, CAROL, startApp, type TestApp } from '../support/app.js';
import { expectProblem } from '../support/expect.js';

let keyCounter = 0;
const newKey = () => `test-key-${Date.now()}-${++keyCounter}`;

async function totalBalance(): Promise<string> {
  const rows = await hostRows('SELECT CAST(SUM(balance) AS VARCHAR(32)) AS total FROM account');
  return String(rows[0].total);
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
          { accountId: '100000002', bankId: 'DEMOBANK1', kind: 'savings', currency: 'EUR', balance: '1000.00' },
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
      expect(await totalBalance()).to.equal('5000.00');
    });

    it('moves money between a customer\u2019s own accounts', async () => {
      expect((await transfer(alice, aliceToBob('10.00', { toAccount: ALICE.savings }))).status).to.equal(201);
      expect(await balance(alice, ALICE.savings)).to.equal('1010.00');
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
      const entries = await hostRows('SELECT COUNT(*) AS n FROM ledger_entry WHERE transfer_id = ?', [first.body.transferId]);
      expect(Number(entries[0].n)).to.equal(2);
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
      expectProblem(await transfer(alice, aliceToBob('1000.01')), 409, 'insufficient_funds');
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
      expectProblem(await transfer(alice, aliceToBob('5000.00'), key), 409, 'insufficient_funds');
      expect((await transfer(alice, aliceToBob('50.00'), key)).status).to.equal(201);
    });

    it('never overdraws: 40 concurrent transfers, exactly the affordable ones succeed', async () => {
      const responses = await Promise.all(Array.from({ length: 40 }, () => transfer(alice, aliceToBob('30.00'))));
      const statuses = responses.map((r) => r.status);
      expect(statuses.filter((s) => s === 201)).to.have.length(33); // 33 × 30.00 = 990.00 of 1000.00
      expect(statuses.filter((s) => s === 409)).to.have.length(7);
      expect(await balance(alice, ALICE.account)).to.equal('10.00');
      expect(await balance(bob, BOB.account)).to.equal('1990.00');
      expect(await totalBalance()).to.equal('5000.00');
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
  });
});
