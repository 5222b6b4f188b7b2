// The audit trail: one row per security- or money-relevant action, written by
// the same host procedure call, and readable by staff only.
import { expect } from 'chai';
import { purgeExpired } from '../../db/host-sessions.js';
import { hostRows, resetHost } from '../support/host.js';
import { ALICE, BOB, STAFF, startApp, type TestApp } from '../support/app.js';
import { expectProblem } from '../support/expect.js';
import { tokenClaims } from '../support/jwt.js';

interface AuditRow { at: string; event: string; outcome: string; customerId: string | null; account: string | null; requestId: string | null; clientAddress: string | null; device: string | null; detail: string | null }

describe('audit trail', () => {
  let api: TestApp;
  let staff: string;

  beforeEach(async () => {
    await resetHost();
    api = await startApp({ LOGIN_MAX_FAILURES: '2', LOGIN_LOCK_SECONDS: '60' });
    staff = await api.login(STAFF.account, STAFF.pin, 'admin console');
  });
  afterEach(() => api.close());

  const audit = async (query = ''): Promise<AuditRow[]> => {
    const response = await api.request('GET', `/api/audit?limit=100${query}`, { token: staff });
    expect(response.status, response.text).to.equal(200);
    return response.body.items;
  };
  const login = (account: string, pin: string, headers: Record<string, string> = {}) =>
    api.request('POST', '/api/auth/login', { body: { account, pin, device: 'Pixel 9' }, headers });

  it('records logins: ok, invalid_credentials and locked, with request id, address and device', async () => {
    await login(BOB.account, '00000', { 'x-request-id': 'req-fail-1' });
    await login(BOB.account, '00000');
    await login(BOB.account, BOB.pin, { 'x-request-id': 'req-locked' });
    await login(ALICE.account, ALICE.pin, { 'x-request-id': 'req-ok' });
    await login('123456789', '1234');
    const rows = await audit('&event=login');
    const bob = rows.filter((r) => r.account === BOB.account).map((r) => r.outcome);
    expect(bob).to.deep.equal(['locked', 'invalid_credentials', 'invalid_credentials']);
    const locked = rows.find((r) => r.requestId === 'req-locked');
    expect(locked).to.include({
      event: 'login', outcome: 'locked', customerId: 'C002', device: 'Pixel 9', clientAddress: '127.0.0.1', detail: 'unknown devices',
    });
    expect(rows.find((r) => r.requestId === 'req-fail-1')?.detail).to.equal('failure 1 of 2, unknown devices');
    expect(rows.find((r) => r.requestId === 'req-ok')).to.include({ outcome: 'ok', customerId: 'C001', account: ALICE.account });
    expect(rows.find((r) => r.account === '123456789')).to.include({ outcome: 'invalid_credentials', customerId: null });
  });

  it('records logout, logout_all and session expiry', async () => {
    const alice = await api.login(ALICE.account, ALICE.pin);
    await api.request('DELETE', '/api/auth/session', { token: alice, headers: { 'x-request-id': 'req-logout' } });
    const bob = await api.login(BOB.account, BOB.pin);
    await api.login(BOB.account, BOB.pin);
    await api.request('DELETE', '/api/auth/sessions', { token: bob });
    const carol = await api.login('300000001', '11111');
    api.clock.advance(301);
    await api.request('GET', '/api/accounts', { token: carol });
    staff = await api.login(STAFF.account, STAFF.pin);
    const rows = await audit();
    expect(rows.find((r) => r.event === 'logout')).to.include({ outcome: 'ok', customerId: 'C001', requestId: 'req-logout' });
    expect(rows.find((r) => r.event === 'logout_all')).to.include({ outcome: 'ok', customerId: 'C002', detail: '2 sessions' });
    expect(rows.find((r) => r.event === 'session_expired' && r.customerId === 'C003')).to.include({ outcome: 'ok', detail: 'idle' });
  });

  it('records transfers: ok, a rejection with its problem code, and a replay without a second ok row', async () => {
    const alice = await api.login(ALICE.account, ALICE.pin);
    const body = { bankId: 'DEMOBANK1', fromAccount: ALICE.account, toAccount: BOB.account, amount: '12.34' };
    const headers = { 'Idempotency-Key': 'audit-key-0001' };
    const first = await api.request('POST', '/api/transfers', { token: alice, body, headers });
    await api.request('POST', '/api/transfers', { token: alice, body, headers });
    await api.request('POST', '/api/transfers', { token: alice, body: { ...body, amount: '5000.00', pin: ALICE.pin }, headers: { 'Idempotency-Key': 'audit-key-0002' } });
    await api.request('POST', '/api/transfers', { token: alice, body: { ...body, bankId: 'DEMOBANK2' }, headers: { 'Idempotency-Key': 'audit-key-0003' } });
    const rows = await audit('&event=transfer');
    expect(rows.map((r) => r.outcome)).to.deep.equal(['bank_mismatch', 'insufficient_funds', 'replayed', 'ok']);
    expect(rows.filter((r) => r.outcome === 'ok')).to.have.length(1);
    expect(rows[3]?.detail).to.include(first.body.transferId).and.include('12.34');
    expect(rows[3]).to.include({ customerId: 'C001', account: ALICE.account });
  });

  it('leaves neither booking nor ok row when the transfer fails inside the host transaction', async () => {
    const alice = await api.login(ALICE.account, ALICE.pin);
    // The second leg's insert fails on the host (a CHECK this test adds), after the first leg was written.
    // Opening balances have no transfer id, so existing rows pass: the same DDL on PostgreSQL and Db2.
    await hostRows('ALTER TABLE ledger_entry ADD CONSTRAINT test_no_bob_credit CHECK (NOT (account_id = \'200000001\' AND amount > 0 AND transfer_id IS NOT NULL))');
    try {
      const response = await api.request('POST', '/api/transfers', {
        token: alice, body: { bankId: 'DEMOBANK1', fromAccount: ALICE.account, toAccount: BOB.account, amount: '10.00' },
        headers: { 'Idempotency-Key': 'audit-key-fail' },
      });
      expectProblem(response, 500, 'internal_error');
    } finally {
      await hostRows('ALTER TABLE ledger_entry DROP CONSTRAINT test_no_bob_credit');
    }
    const balances = await hostRows('SELECT account_id, CAST(balance AS VARCHAR(20)) AS balance FROM account WHERE account_id IN (?, ?) ORDER BY account_id', [ALICE.account, BOB.account]);
    expect(balances.map((b) => b.balance)).to.deep.equal(['1000.00', '1000.00']);
    expect(await audit('&event=transfer')).to.deep.equal([]);
    expect(await hostRows("SELECT * FROM transfer WHERE idempotency_key = 'audit-key-fail'")).to.deep.equal([]);
  });

  it('records employee writes by staff', async () => {
    await api.request('POST', '/api/sample/employee', { token: staff, body: { empno: '990009', firstName: 'A', lastName: 'B', edLevel: 2 } });
    await api.request('PUT', '/api/sample/employee/990009', { token: staff, body: { edLevel: 1 } });
    await api.request('PUT', '/api/sample/employee/990009', { token: staff, body: { job: 'CLERK', edLevel: 3 } });
    await api.request('DELETE', '/api/sample/employee/990009', { token: staff });
    const rows = (await audit()).filter((r) => r.event.startsWith('employee_'));
    expect(rows.map((r) => `${r.event}:${r.outcome}`)).to.deep.equal([
      'employee_delete:ok', 'employee_update:ok', 'employee_update:edlevel_decrease', 'employee_create:ok',
    ]);
    expect(rows[1]?.detail).to.equal('empno 990009 fields JOB,EDLEVEL');
    expect(rows.every((r) => r.customerId === 'C900' && r.device === 'admin console')).to.equal(true);
  });

  it('records purged sessions', async () => {
    await api.login(ALICE.account, ALICE.pin);
    api.clock.advance(400);
    await purgeExpired(api.host, { now: api.clock.now, auditBefore: new Date(0), guardBefore: new Date(0), knownDeviceBefore: new Date(0) });
    staff = await api.login(STAFF.account, STAFF.pin);
    const purged = (await audit('&event=session_expired')).filter((r) => r.customerId === 'C001');
    expect(purged).to.have.length(1);
    expect(purged[0]?.detail).to.equal('purged, idle');
  });

  it('purges audit rows past retention with the sessions', async () => {
    await login(BOB.account, '00000');
    api.clock.advance(86_400 * 401);
    const purged = await purgeExpired(api.host, { now: api.clock.now, auditBefore: new Date(api.clock.now.getTime() - 400 * 86_400_000), guardBefore: new Date(0), knownDeviceBefore: new Date(0) });
    expect(purged.auditRows).to.be.at.least(2);
    expect(await hostRows('SELECT * FROM audit_log')).to.have.length(purged.sessions); // only the purge's own rows remain
  });

  it('filters by customer, event and time, and pages with a cursor', async () => {
    for (let i = 0; i < 5; i++) {
      api.clock.advance(10);
      await login(BOB.account, BOB.pin);
    }
    const page1 = await api.request('GET', '/api/audit?customerId=C002&event=login&limit=2', { token: staff });
    expect(page1.body.items).to.have.length(2);
    const page2 = await api.request('GET', `/api/audit?customerId=C002&event=login&limit=2&cursor=${page1.body.nextCursor}`, { token: staff });
    const page3 = await api.request('GET', `/api/audit?customerId=C002&event=login&limit=2&cursor=${page2.body.nextCursor}`, { token: staff });
    expect(page3.body.items).to.have.length(1);
    expect(page3.body.nextCursor).to.equal(null);
    const times = [...page1.body.items, ...page2.body.items, ...page3.body.items].map((r: AuditRow) => r.at);
    expect(times).to.deep.equal([...times].sort().reverse());
    const window = await api.request('GET', `/api/audit?customerId=C002&from=${times[3]}&to=${times[1]}`, { token: staff });
    expect(window.body.items.map((r: AuditRow) => r.at)).to.deep.equal([times[2], times[3]]);
  });

  it('is 403 for customers and 400 for bad filters', async () => {
    const alice = await api.login(ALICE.account, ALICE.pin);
    expectProblem(await api.request('GET', '/api/audit', { token: alice }), 403, 'forbidden');
    expectProblem(await api.request('GET', '/api/audit?event=reboot', { token: staff }), 400, 'validation_failed');
    expectProblem(await api.request('GET', '/api/audit?from=yesterday', { token: staff }), 400, 'validation_failed');
    const overflow = Buffer.from('k:9223372036854775808').toString('base64url');
    expectProblem(await api.request('GET', `/api/audit?cursor=${overflow}`, { token: staff }), 400, 'validation_failed');
  });

  it('holds no PIN, token or clear session id in any row', async () => {
    const response = await login(ALICE.account, ALICE.pin);
    const token: string = response.body.token;
    const sid = String(tokenClaims(token).sid);
    await api.request('DELETE', '/api/auth/session', { token });
    await login(ALICE.account, '77777');
    const everything = JSON.stringify(await hostRows('SELECT * FROM audit_log'));
    for (const secret of [ALICE.pin, '77777', token, token.split('.')[2], sid, sid.replace(/-/g, '')]) {
      expect(everything).not.to.include(secret);
    }
    const hashes = await hostRows("SELECT DISTINCT session_hash FROM audit_log WHERE customer_id = 'C001' AND session_hash IS NOT NULL");
    expect(hashes).to.have.length(1); // login and logout of one session group under one keyed hash
  });
});
