// Client text is clean before it is stored: a device label, a transfer
// reference, an employee's name or a scratch-pad string holding a control
// character, a line or paragraph separator or a bidirectional control is
// refused with 400, and nothing of it reaches the host.
import { expect } from 'chai';
import { hostRows, resetHost } from '../support/host.js';
import { ALICE, BOB, STAFF, startApp, type Response, type TestApp } from '../support/app.js';
import { expectProblem } from '../support/expect.js';

const UNSAFE: [string, string][] = [
  ['NUL', '\u0000'], ['a tab', '\t'], ['LF', '\n'], ['CR', '\r'], ['ESC', '\u001b'], ['DEL', '\u007f'],
  ['a C1 control (NEL)', '\u0085'], ['a C1 control (CSI)', '\u009b'],
  ['LINE SEPARATOR', '\u2028'], ['PARAGRAPH SEPARATOR', '\u2029'],
  ...['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069']
    .map((c): [string, string] => [`bidirectional control U+${c.codePointAt(0)?.toString(16).toUpperCase()}`, c]),
];

describe('client text the host stores', () => {
  let api: TestApp;
  let customer: string;
  let staff: string;

  before(async () => {
    await resetHost();
    api = await startApp({ STEP_UP_AMOUNT: '5000.00' });
    customer = await api.login(ALICE.account, ALICE.pin);
    staff = await api.login(STAFF.account, STAFF.pin);
  });
  after(() => api.close());

  const refused = (response: Response, path: string) => {
    expectProblem(response, 400, 'validation_failed');
    expect(response.body.errors).to.deep.include({ path, message: 'must not contain control or text-direction characters' });
  };

  for (const [name, character] of UNSAFE) {
    it(`refuses ${name} in a device label, a reference, an employee name and the scratch pad; stores none of it`, async () => {
      const before = (await hostRows('SELECT COUNT(*) AS n FROM audit_log'))[0]?.n;
      refused(await api.request('POST', '/api/auth/login', {
        body: { account: ALICE.account, pin: ALICE.pin, device: `phone${character}2026-01-01 login ok C900 FORGED` },
      }), 'device');
      refused(await api.request('POST', '/api/transfers', {
        token: customer, headers: { 'Idempotency-Key': `clean-text-${name.replace(/\W/g, '')}` },
        body: { bankId: 'DEMOBANK1', fromAccount: ALICE.account, toAccount: BOB.account, amount: '1.00', reference: `rent${character}` },
      }), 'reference');
      refused(await api.request('POST', '/api/sample/employee', {
        token: staff, body: { empno: '900001', firstName: `Ann${character}`, lastName: 'Lee', edLevel: 16 },
      }), 'firstName');
      refused(await api.request('PUT', '/api/auth/session/scratchpad', { token: customer, body: { note: { text: `a${character}b` } } }), 'note.text');
      refused(await api.request('PUT', '/api/auth/session/scratchpad', { token: customer, body: { [`k${character}`]: 1 } }), `k${character}`);
      expect((await hostRows('SELECT COUNT(*) AS n FROM audit_log'))[0]?.n, 'no audit row, no host call').to.equal(before);
      expect(await hostRows("SELECT 1 FROM employee WHERE empno = '900001'")).to.deep.equal([]);
    });
  }

  it('refuses every C0 and C1 control character and DEL, each alone (the cases above sample them)', async () => {
    const controls = [...Array.from({ length: 0x20 }, (_, i) => i), 0x7f, ...Array.from({ length: 0x20 }, (_, i) => 0x80 + i)];
    const put = (text: string) => api.request('PUT', '/api/auth/session/scratchpad', { token: customer, body: { note: { text } } });
    const notRefused: string[] = [];
    for (const code of controls) {
      const answer = await put(`a${String.fromCodePoint(code)}b`);
      try {
        refused(answer, 'note.text');
      } catch {
        notRefused.push(`U+${code.toString(16).toUpperCase().padStart(4, '0')}: ${answer.status}`);
      }
    }
    expect(notRefused).to.deep.equal([]);
    expect((await put('ab')).status, 'the same text without the character').to.equal(204);
  });

  it('keeps text in any script, right-to-left included, and the marks that only hint at direction', async () => {
    const label = 'هاتف Ali – Müller’s 📱 \u200f';
    const login = await api.request('POST', '/api/auth/login', { body: { account: ALICE.account, pin: ALICE.pin, device: label } });
    expect(login.status).to.equal(201);
    expect((await hostRows("SELECT device FROM audit_log WHERE event = 'login' ORDER BY audit_id DESC"))[0]?.device).to.equal(label);
  });
});
