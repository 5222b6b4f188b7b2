// Every route of /openapi.json against hostile input, property-based
// (fast-check, seeded): malformed and oversized bodies, wrong types, unknown
// fields, unicode and NUL bytes, SQL and path metacharacters in path and
// query, repeated and conflicting headers, with and without a valid token;
// forged, mis-targeted and replayed DPoP proofs on every protected route, and
// forged transfer signatures.
// Every response: no 5xx, problem+json for errors, nothing internal in the
// body, security headers present, and host state unchanged by rejections.
// FUZZ_RUNS sets the runs per property (npm test: a fast seeded run; CI: longer).
import { expect } from 'chai';
import fc from 'fast-check';
import { hostRows, resetHost } from '../support/host.js';
import { ALICE, BOB, STAFF, startApp, type TestApp } from '../support/app.js';
import { TestDevice } from '../support/dpop.js';

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

  describe('on a device-bound session', () => {
    let phone: TestDevice;
    let thief: TestDevice;
    let bound: string;
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    /** The JWS with one character of its signature changed (never the last: its low bits may be padding). */
    const flipped = (jws: string) => `${jws.slice(0, -2)}${jws.at(-2) === 'A' ? 'B' : 'A'}${jws.slice(-1)}`;
    /** Re-heads a signed proof: its signature no longer matches what it claims. */
    const reheaded = (proof: string, header: Record<string, unknown>) => `${b64(header)}.${proof.split('.').slice(1).join('.')}`;

    before(async () => {
      phone = await TestDevice.create();
      thief = await TestDevice.create('Ed25519');
      bound = await api.loginAs(phone, ALICE.account, ALICE.pin, 'fuzzed phone');
    });

    type Forge = (url: string, method: string) => Promise<string | undefined>;
    /** The app's clock: every forgery is genuine but for the one thing it names. */
    const now = () => Math.floor(api.clock.now.getTime() / 1000);
    const prove = (device: TestDevice, options: Parameters<TestDevice['proof']>[0]) => device.proof({ iat: now(), ...options });
    const forgeries: Record<string, Forge> = {
      'no proof': async () => undefined,
      'another method': (url, method) => prove(phone, { method: method === 'GET' ? 'POST' : 'GET', url, token: bound }),
      'another path': (url, method) => prove(phone, { method, url: `${url}x`, token: bound }),
      'another origin': (url, method) => prove(phone, { method, url: url.replace('127.0.0.1', 'evil.example'), token: bound }),
      'stale': (url, method) => prove(phone, { method, url, token: bound, iat: now() - 600 }),
      'future': (url, method) => prove(phone, { method, url, token: bound, iat: now() + 600 }),
      'no ath': (url, method) => prove(phone, { method, url }),
      'another token': (url, method) => prove(phone, { method, url, token: `${bound}x` }),
      'no nonce': (url, method) => prove(phone, { method, url, token: bound, nonce: null }),
      'forged nonce': (url, method) => prove(phone, { method, url, token: bound, nonce: `${Math.floor(now() / 60)}.AAAAAAAAAAAAAAAAAAAAAA` }),
      'another key': (url, method) => prove(thief, { method, url, token: bound, nonce: phone.nonce }),
      'the bound key in the header, signed by another': async (url, method) =>
        reheaded(await prove(thief, { method, url, token: bound, nonce: phone.nonce }), { alg: thief.algorithm, typ: 'dpop+jwt', jwk: phone.jwk }),
      'alg none': async (url, method) => `${b64({ alg: 'none', typ: 'dpop+jwt', jwk: phone.jwk })}.${b64({ htm: method, htu: url, iat: now(), jti: 'x' })}.`,
      'alg HS256': async (url, method) => reheaded(await prove(phone, { method, url, token: bound }), { alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: 'oct', k: 'AAAA' } }),
      'typ JWT': async (url, method) => reheaded(await prove(phone, { method, url, token: bound }), { alg: 'ES256', typ: 'JWT', jwk: phone.jwk }),
      'a private key in the header': async (url, method) =>
        reheaded(await prove(phone, { method, url, token: bound }), { alg: 'ES256', typ: 'dpop+jwt', jwk: { ...phone.jwk, d: 'AAAA' } }),
      'a flipped signature bit': async (url, method) => flipped(await prove(phone, { method, url, token: bound })),
      'two proofs in one header': async (url, method) => {
        const proof = await prove(phone, { method, url, token: bound });
        return `${proof}, ${proof}`;
      },
    };

    it('refuses every forged, mis-targeted or hostile proof on every protected route, at no host cost', async () => {
      const protectedOps = () => operations.filter((op) => op.path.startsWith('/api/') && op.path !== '/api/auth/login');
      await fc.assert(fc.asyncProperty(
        fc.integer({ min: 0, max: 1000 }),
        fc.oneof(fc.constantFrom(...Object.keys(forgeries)), hostileText.map((text) => `text:${text}`)),
        fc.constantFrom('DPoP', 'Bearer'),
        async (pick, forgery, scheme) => {
          const op = pickFrom(protectedOps(), pick);
          const path = op.path.replace(/\{(\w+)\}/g, op.path.includes('sessions') ? 'AAAAAAAAAAAAAAAAAAAAAA' : '000010');
          const url = `${api.url}${path}`;
          const proof = forgery.startsWith('text:') ? forgery.slice(5).replace(/[^\x20-\x7e]/g, '') : await forgeries[forgery]!(url, op.method);
          const before = await hostState();
          const hostCalls = api.host.stats().total;
          const response = await api.request(op.method, path, {
            headers: { authorization: `${scheme} ${bound}`, ...(proof === undefined ? {} : { dpop: proof }), 'content-type': 'application/json' },
            rawBody: op.method === 'GET' ? undefined : '{}',
          });
          const what = `${op.method} ${path} with ${scheme} and ${forgery.slice(0, 40)}`;
          expect(api.host.stats().total - hostCalls, `${what} cost host calls`).to.equal(0);
          expectSafe(response, what);
          expect(response.status, what).to.equal(401);
          expect(response.body.code, what).to.be.oneOf(['invalid_dpop_proof', 'use_dpop_nonce', 'dpop_required', 'invalid_token']);
          expect(response.headers.get('www-authenticate'), what).to.match(/^DPoP /);
          expect(await hostState(), what).to.equal(before);
          phone.nonce = response.headers.get('dpop-nonce') ?? phone.nonce;
        },
      ), { numRuns: RUNS * 3, seed: SEED + 2 });
    });

    it('refuses a proof replayed on any protected read, at no host cost', async () => {
      const reads = operations.filter((op) => op.method === 'GET' && op.path.startsWith('/api/'));
      expect(reads.length).to.be.at.least(5);
      for (const op of reads) {
        const path = op.path.replace(/\{(\w+)\}/g, op.path.includes('sessions') ? 'AAAAAAAAAAAAAAAAAAAAAA' : ALICE.account);
        const headers = { authorization: `DPoP ${bound}`, dpop: await prove(phone, { method: 'GET', url: `${api.url}${path}`, token: bound }) };
        const first = await api.request('GET', path, { headers });
        expect(first.status, `${path}: ${first.text}`).not.to.equal(401);
        const hostCalls = api.host.stats().total;
        const replayed = await api.request('GET', path, { headers });
        expectSafe(replayed, `replayed GET ${path}`);
        expect(replayed.status, path).to.equal(401);
        expect(replayed.body.code, path).to.equal('use_dpop_nonce');
        expect(api.host.stats().total, `${path} cost host calls`).to.equal(hostCalls);
      }
    });

    it('books no transfer under a forged, altered, foreign or replayed-elsewhere signature', async () => {
      let serial = 0;
      await fc.assert(fc.asyncProperty(
        fc.constantFrom('missing', 'another key', 'alg none', 'typ JWT', 'stale', 'future', 'amount', 'payee', 'source', 'idempotency key',
          'currency', 'a DPoP proof instead', 'flipped bit'),
        fc.oneof(fc.constant(''), hostileText),
        async (forgery, garbage) => {
          const key = `fuzz-${SEED}-${++serial}`;
          const signed = { fromAccount: ALICE.account, toAccount: BOB.account, amount: '10.00', currency: 'EUR', idempotencyKey: key };
          const sign = (overrides: Partial<typeof signed> = {}, iat = now(), by = phone) => by.signTransfer({ ...signed, ...overrides }, iat);
          const signatures: Record<string, () => Promise<string | undefined>> = {
            'missing': async () => (garbage ? garbage.replace(/[^\x21-\x7e]/g, '') || undefined : undefined),
            'another key': () => sign({}, now(), thief),
            'alg none': async () => `${b64({ alg: 'none', typ: 'transfer+jwt' })}.${b64({ ...signed, iat: now() })}.`,
            'typ JWT': async () => reheaded(await sign(), { alg: 'ES256', typ: 'JWT' }),
            'stale': () => sign({}, now() - 3600),
            'future': () => sign({}, now() + 3600),
            'amount': () => sign({ amount: '10.01' }),
            'payee': () => sign({ toAccount: ALICE.savings }),
            'source': () => sign({ fromAccount: ALICE.savings }),
            'idempotency key': () => sign({ idempotencyKey: `${key}-other` }),
            'currency': () => sign({ currency: 'USD' }),
            'a DPoP proof instead': () => prove(phone, { method: 'POST', url: `${api.url}/api/transfers`, token: bound }),
            'flipped bit': async () => flipped(await sign()),
          };
          const signature = await signatures[forgery]!();
          const before = await hostState();
          const response = await api.requestAs(phone, 'POST', '/api/transfers', {
            token: bound,
            body: { bankId: 'DEMOBANK1', fromAccount: signed.fromAccount, toAccount: signed.toAccount, amount: signed.amount },
            headers: { 'idempotency-key': key, ...(signature ? { 'transfer-signature': signature } : {}) },
          });
          const what = `transfer signed with ${forgery} ${garbage.slice(0, 20)}`;
          expectSafe(response, what);
          // Not shaped like a compact JWS at all: refused as invalid input before any check.
          const [status, codes] = response.status === 400 ? [400, ['validation_failed']] : [403, ['signature_required', 'invalid_signature']];
          expect(response.status, `${what}: ${response.text}`).to.equal(status);
          expect(response.body.code, what).to.be.oneOf(codes);
          expect(await hostState(), what).to.equal(before);
        },
      ), { numRuns: RUNS * 2, seed: SEED + 3 });
    });
  });

  it('refuses deeply nested and huge bodies without a 5xx', async () => {
    for (const rawBody of ['['.repeat(100_000), `{"a":${'{"a":'.repeat(5000)}1${'}'.repeat(5001)}`, `"${'x'.repeat(200_000)}"`]) {
      const response = await api.request('POST', '/api/auth/login', { rawBody, headers: { 'content-type': 'application/json' } });
      expectSafe(response, `body of ${rawBody.length} bytes`);
      expect(response.status).to.be.oneOf([400, 413]);
    }
  });
});
