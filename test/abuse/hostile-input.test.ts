// Every route of /openapi.json against hostile input, property-based
// (fast-check, seeded): malformed and oversized bodies, wrong types, unknown
// fields, unicode and NUL bytes, SQL and path metacharacters in path and
// query, repeated and conflicting headers, with and without a valid token.
// Every response: no 5xx, problem+json for errors, nothing internal in the
// body, security headers present, and host state unchanged by rejections.
// FUZZ_RUNS sets the runs per property (npm test: a fast seeded run; CI: longer).
import { expect } from 'chai';
import fc from 'fast-check';
import { hostRows, resetHost } from '../support/host.js';
import { ALICE, STAFF, startApp, type TestApp } from '../support/app.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 60);
const SEED = Number(process.env.FUZZ_SEED ?? 20261125);
const LEAKS = /\bat [\w.<>]+ \(|\.ts:\d+|\.js:\d+|node_modules|SELECT |INSERT |UPDATE |DELETE FROM|CALL |syntax error|violates|PGlite|pg-protocol|ibm_db|SQLSTATE|\/work\/|\/app\//i;

interface Operation {
  method: string;
  path: string;
  parameters: { name: string; in: string }[];
  hasBody: boolean;
}

/** Host state a rejected request must not touch (audit rows and login counters may change: they record the rejection). */
async function hostState(): Promise<string> {
  const [balances, sessions, employees, transfers, ledger] = await Promise.all([
    hostRows('SELECT account_id, CAST(balance AS VARCHAR(20)) AS b FROM account ORDER BY account_id'),
    hostRows('SELECT session_id, scratch_pad FROM host_session ORDER BY session_id'),
    hostRows('SELECT empno, firstnme, lastname, CAST(edlevel AS INTEGER) AS e, CAST(salary AS VARCHAR(20)) AS s FROM employee ORDER BY empno'),
    hostRows('SELECT COUNT(*) AS n FROM transfer'),
    hostRows('SELECT COUNT(*) AS n FROM ledger_entry'),
  ]);
  return JSON.stringify([balances, sessions, employees, transfers, ledger]);
}

const hostileText = fc.oneof(
  fc.constantFrom("' OR '1'='1", "'; DROP TABLE employee; --", '../../etc/passwd', '..%2f..%2f', '%00', '\u0000', 'NULL',
    '${jndi:ldap://x}', '<script>alert(1)</script>', '\ud83d\ude00\u202e', 'ñ'.repeat(300), '9'.repeat(40), '-1', '1e308', '0x10',
    '__proto__', 'constructor', '*', '%', '_', '\\', '"', '{}', '[]', ' ', ''),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
);

const hostileJson = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.dictionary(fc.constantFrom('account', 'pin', 'device', 'empno', 'firstName', 'lastName', 'edLevel', 'salary', 'bankId',
    'fromAccount', 'toAccount', 'amount', 'reference', '__proto__', 'constructor', 'extra'),
  fc.oneof(hostileText, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }), fc.object({ maxDepth: 2 }))),
  fc.constant('x'.repeat(70_000)),
  fc.integer({ min: 100, max: 5000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
);

describe('hostile input on every route (property-based)', function () {
  this.timeout(10 * 60_000);
  let api: TestApp;
  let operations: Operation[];
  let tokens: Record<'none' | 'customer' | 'staff', string | undefined>;

  before(async () => {
    await resetHost();
    api = await startApp({ LOGIN_MAX_FAILURES: '100', LOGIN_RATE_PER_MINUTE: '100000' });
    const document = (await api.request('GET', '/openapi.json')).body as { paths: Record<string, Record<string, { parameters?: Operation['parameters']; requestBody?: unknown }>> };
    operations = Object.entries(document.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({
      method: method.toUpperCase(), path, parameters: op.parameters ?? [], hasBody: Boolean(op.requestBody),
    })));
    tokens = { none: undefined, customer: await api.login(ALICE.account, ALICE.pin), staff: await api.login(STAFF.account, STAFF.pin) };
  });
  after(() => api?.close());

  function expectSafe(response: Awaited<ReturnType<TestApp['request']>> & { body: any }, what: string): void {
    expect(response.status, `${what} → ${response.status} ${response.text.slice(0, 300)}`).to.be.below(500);
    expect(response.headers.get('x-content-type-options'), what).to.equal('nosniff');
    expect(response.headers.get('x-request-id'), what).to.be.a('string');
    // /metrics and /openapi.json describe the service by design (procedure names, schemas); everything else must not.
    if (!/^\w+ \/(metrics|openapi\.json|docs)/.test(what)) expect(response.text, what).not.to.match(LEAKS);
    if (response.status >= 400) {
      expect(response.headers.get('content-type'), what).to.match(/^application\/problem\+json/);
      expect(response.body.code, what).to.match(/^[a-z_]+$/);
    }
  }

  /** The n-th element, cycling: fast-check picks the index. */
  function pickFrom<T>(list: readonly T[], n: number): T {
    const item = list[n % list.length];
    if (item === undefined) throw new Error('nothing to pick from');
    return item;
  }

  /** Operations whose success with a valid token would (rightly) change host state or end the session. */
  const endsSession = (op: Operation) => op.method === 'DELETE' && op.path.startsWith('/api/auth/session');

  it('never answers 5xx, never leaks, and leaves host state alone when it rejects', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 0, max: 1000 }),
      fc.constantFrom<'none' | 'customer' | 'staff'>('none', 'customer', 'staff'),
      fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), hostileText, { maxKeys: 3 }),
      hostileText,
      hostileJson,
      fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded',
        'application/json, text/plain', 'multipart/form-data; boundary=x', ''),
      fc.boolean(),
      async (pick, who, extraQuery, pathValue, body, contentType, rawGarbage) => {
        const op = pickFrom(operations, pick);
        if (who !== 'none' && endsSession(op)) return;
        const path = op.path.replace(/\{(\w+)\}/g, () => encodeURIComponent(pathValue));
        const query = new URLSearchParams();
        for (const p of op.parameters.filter((q) => q.in === 'query')) query.append(p.name, pathValue);
        for (const [k, v] of Object.entries(extraQuery)) query.append(k, v);
        const headers: Record<string, string> = {};
        if (contentType) headers['content-type'] = contentType;
        if (op.parameters.some((p) => p.name === 'Idempotency-Key')) headers['idempotency-key'] = pathValue.replace(/[^\x21-\x7e]/g, 'x') || 'k';
        const rawBody = rawGarbage ? `{"a": ${'['.repeat(50)}` : typeof body === 'string' ? body : JSON.stringify(body);
        const before = await hostState();
        const response = await api.request(op.method, `${path}${query.size ? `?${query}` : ''}`, {
          token: tokens[who], headers, rawBody: op.method === 'GET' ? undefined : rawBody,
        });
        expectSafe(response, `${op.method} ${path} as ${who}`);
        if (response.status >= 400) expect(await hostState(), `${op.method} ${path} as ${who} changed host state`).to.equal(before);
      },
    ), { numRuns: RUNS * 5, seed: SEED });
  });

  it('survives hostile tokens and repeated or conflicting headers on every protected route', async () => {
    const genuine = tokens.customer!;
    const [header, payload] = genuine.split('.');
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 0, max: 1000 }),
      fc.oneof(
        hostileText.map((t) => `Bearer ${t}`),
        fc.constantFrom(`Bearer ${header}.${payload}.`, `Bearer ${header}..`, `Bearer  ${genuine}`,
          `Bearer ${genuine}, Bearer ${genuine}`, `Basic ${Buffer.from('a:b').toString('base64')}`, `Bearer ${'A'.repeat(10_000)}`,
          `Bearer ${Buffer.from('{"alg":"none","typ":"JWT","kid":"1"}').toString('base64url')}.${payload}.`),
      ),
      fc.constantFrom('x-request-id', 'content-length', 'transfer-encoding', 'content-type', 'x-forwarded-for', 'host'),
      hostileText,
      async (pick, authorization, extraHeader, extraValue) => {
        const protectedOps = operations.filter((op) => op.path.startsWith('/api/') && op.path !== '/api/auth/login');
        const op = pickFrom(protectedOps, pick);
        const path = op.path.replace(/\{(\w+)\}/g, '000010');
        // Only what an HTTP client can put on the wire: control characters never leave it.
        const headers: Record<string, string> = { authorization: authorization.replace(/[^\t\x20-\x7e\x80-\xff]/g, '') };
        const value = extraValue.replace(/[^\x20-\x7e]/g, '');
        if (!['content-length', 'transfer-encoding', 'host'].includes(extraHeader)) headers[extraHeader] = value;
        const before = await hostState();
        const response = await api.request(op.method, path, { headers });
        expectSafe(response, `${op.method} ${path} with ${authorization.slice(0, 40)}`);
        expect(response.status, `${op.method} ${path}`).to.be.oneOf([400, 401, 413, 415]);
        expect(await hostState()).to.equal(before);
      },
    ), { numRuns: RUNS * 2, seed: SEED + 1 });
  });

  it('refuses deeply nested and huge bodies without a 5xx', async () => {
    for (const rawBody of ['['.repeat(100_000), `{"a":${'{"a":'.repeat(5000)}1${'}'.repeat(5001)}`, `"${'x'.repeat(200_000)}"`]) {
      const response = await api.request('POST', '/api/auth/login', { rawBody, headers: { 'content-type': 'application/json' } });
      expectSafe(response, `body of ${rawBody.length} bytes`);
      expect(response.status).to.be.oneOf([400, 413]);
    }
  });
});
