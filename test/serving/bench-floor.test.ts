// The bench's floor (bench/baseline.ts, CHECKS=node-crypto) is what the
// device-bound read is measured against: a floor that skipped a check would be
// faster, and the bench's ratio a flattering lie. So the floor, plain and as a
// Koa route, is held here to every refusal it claims, for proofs signed by a
// device written from the RFC (test/support/dpop.ts), not by the bench's own;
// and to the service's answers (headers and body, for a read and a signed
// transfer), which a floor that skimped on them would spare itself, making the
// ratio unfair the other way.
import { expect } from 'chai';
import { createHash, randomUUID } from 'node:crypto';
import { freePort } from '../../scripts/local-service.js';
import type { ScratchDatabase } from '../../scripts/scratch-database.js';
import { ALICE, BOB, loginBoundAt, request } from '../support/app.js';
import { spawnChild, type Child } from '../support/child.js';
import { TestDevice } from '../support/dpop.js';
import { scratchPgDatabase, TEST_PIN_PEPPER, TEST_SECRET } from '../support/host.js';

const EMPLOYEE = '/api/sample/employee/000010';

/** An answer's headers, those whose values differ per answer by name only. */
function comparable(headers: Headers): Record<string, string> {
  const PER_ANSWER = new Set(['date', 'x-request-id', 'dpop-nonce', 'content-length', 'keep-alive', 'connection']);
  return Object.fromEntries([...headers].map(([name, value]) => [name, PER_ANSWER.has(name) ? '(per answer)' : value]));
}

describe('the bench\u2019s floor makes every DPoP check it claims', function () {
  this.timeout(120_000);
  let database: ScratchDatabase | null = null;
  const children: Child[] = [];
  let service = '';
  const floors: Record<string, string> = {};

  before(async function () {
    database = await scratchPgDatabase('api_floor');
    if (!database) {
      console.log('      (skipped: needs a PostgreSQL server; CI has one)');
      this.skip();
    }
    const secrets = { JWT_SECRET: TEST_SECRET, PIN_PEPPER: TEST_PIN_PEPPER, PIN_KDF_COST: '1024' };
    const port = await freePort();
    service = `http://127.0.0.1:${port}`;
    const serviceChild = spawnChild(['app/server.ts'], {
      ...secrets, NODE_ENV: 'development', PORT: String(port), METRICS_PORT: 'off', DB_URL: database.url, DEMO_DATA: 'true', LOG_LEVEL: 'info', LOGIN_RATE_PER_MINUTE: '1000',
    });
    children.push(serviceChild);
    await serviceChild.waitFor(/"msg":"listening"/);
    for (const framework of ['node:http', 'koa']) {
      const floorPort = await freePort();
      const child = spawnChild(['bench/baseline.ts'], {
        ...secrets, DB_URL: database.url, PORT: String(floorPort), CHECKS: 'node-crypto', FRAMEWORK: framework, EXPECTED_ORIGIN: service,
        BASELINE_WORKERS: '2', // as the bench runs it: the jti memory in the primary
      });
      children.push(child);
      await child.waitFor(/"listening"/, 2);
      floors[framework] = `http://127.0.0.1:${floorPort}`;
    }
  });

  after(async () => {
    for (const child of children) child.kill();
    await Promise.all(children.map((child) => child.exited));
    await database?.drop();
  });

  /** A device-bound session of Alice's, logged in at the service (whose session rows the floor reads). */
  async function boundSession(): Promise<{ device: TestDevice; token: string }> {
    const device = await TestDevice.create();
    return { device, token: await loginBoundAt(service, device, { account: ALICE.account, pin: ALICE.pin, device: 'floor test' }) };
  }

  for (const framework of ['node:http', 'koa']) {
    describe(framework === 'koa' ? 'as a Koa route' : 'on node:http', () => {
      const read = (authorization: string, dpop?: string) =>
        request(floors[framework] ?? '', 'GET', EMPLOYEE, { headers: { authorization, ...(dpop ? { dpop } : {}) } });
      const proofFor = (device: TestDevice, token: string, changes: Partial<Parameters<TestDevice['proof']>[0]> = {}) =>
        device.proof({ method: 'GET', url: `${service}${EMPLOYEE}`, token, ...changes });

      it('answers with the headers and the body the service answers with (the contract\u2019s)', async () => {
        const { device, token } = await boundSession();
        const [served, floor] = [
          await request(service, 'GET', EMPLOYEE, { headers: { authorization: `DPoP ${token}`, dpop: await proofFor(device, token) } }),
          await read(`DPoP ${token}`, await proofFor(device, token)),
        ];
        expect([served.status, floor.status]).to.deep.equal([200, 200]);
        expect(comparable(floor.headers)).to.deep.equal(comparable(served.headers));
        expect(floor.body).to.deep.equal(served.body);
        expect(floor.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
      });

      it('serves a good proof once, and refuses it replayed', async () => {
        const { device, token } = await boundSession();
        const proof = await proofFor(device, token);
        const first = await read(`DPoP ${token}`, proof);
        expect(first.status, first.text).to.equal(200);
        expect(first.body.empno).to.equal('000010');
        expect(first.headers.get('dpop-nonce')).to.equal(device.nonce);
        expect((await read(`DPoP ${token}`, proof)).status).to.equal(401);
      });

      it('refuses a proof for another URL, method, token, nonce, key or time, and a bound token without one', async () => {
        const { device, token } = await boundSession();
        const stranger = await TestDevice.create();
        stranger.nonce = device.nonce;
        // A proof good in every claim, for the cases that change only its header or one claim.
        const claims = () => ({
          jti: randomUUID(), htm: 'GET', htu: `${service}${EMPLOYEE}`, iat: Math.floor(Date.now() / 1000), nonce: device.nonce,
          ath: createHash('sha256').update(token).digest('base64url'),
        });
        const control = await read(`DPoP ${token}`, await device.signed({ alg: 'ES256', typ: 'dpop+jwt', jwk: device.jwk }, claims()));
        expect(control.status, 'the hand-made proof, unchanged').to.equal(200);
        const refused = {
          'another htu': await proofFor(device, token, { url: `${service}/api/sample/employee/000020` }),
          'another htm': await proofFor(device, token, { method: 'POST' }),
          'another token (ath)': await proofFor(device, token, { token: `${token}x` }),
          'no ath': await proofFor(device, token, { token: undefined }),
          'a stale nonce': await proofFor(device, token, { nonce: '1.AAAAAAAAAAAAAAAAAAAAAA' }),
          'no nonce': await proofFor(device, token, { nonce: null }),
          'another key (jkt)': await proofFor(stranger, token),
          'an old iat': await proofFor(device, token, { iat: Math.floor(Date.now() / 1000) - 600 }),
          'another origin in htu': await proofFor(device, token, { url: `http://localhost:1${EMPLOYEE}` }),
          'another typ': await device.signed({ alg: 'ES256', typ: 'JWT', jwk: device.jwk }, claims()),
          'an alg outside the list': await device.signed({ alg: 'ES512', typ: 'dpop+jwt', jwk: device.jwk }, claims()),
          'a private jwk member': await device.signed({ alg: 'ES256', typ: 'dpop+jwt', jwk: { ...device.jwk, d: 'AAAA' } }, claims()),
          'a jti that is no string': await device.signed({ alg: 'ES256', typ: 'dpop+jwt', jwk: device.jwk }, { ...claims(), jti: 42 }),
        };
        for (const [what, proof] of Object.entries(refused)) {
          const response = await read(`DPoP ${token}`, proof);
          expect(response.status, what).to.equal(401);
        }
        expect((await read(`DPoP ${token}`)).status, 'no proof').to.equal(401);
        expect((await read(`Bearer ${token}`, await proofFor(device, token))).status, 'a bound token as Bearer').to.equal(401);
        const good = await read(`DPoP ${token}`, await proofFor(device, token));
        expect(good.status, 'the same session, a good proof').to.equal(200);
      });
    });
  }

  describe('a signed transfer, on node:http (the Koa route serves reads only)', () => {
    /** Alice's signed transfer of `amount` to Bob, sent to `to` with a proof naming the service's URL. */
    async function transfer(to: string, session: { device: TestDevice; token: string }, amount: string, tamper: Partial<Record<'amount', string>> = {}) {
      const idempotencyKey = randomUUID();
      const fields = { fromAccount: ALICE.account, toAccount: BOB.account, amount };
      return request(to, 'POST', '/api/transfers', {
        headers: {
          authorization: `DPoP ${session.token}`, 'idempotency-key': idempotencyKey,
          dpop: await session.device.proof({ method: 'POST', url: `${service}/api/transfers`, token: session.token }),
          'transfer-signature': await session.device.signTransfer({ ...fields, currency: 'EUR', idempotencyKey }),
        },
        body: { bankId: 'DEMOBANK1', ...fields, ...tamper },
      });
    }

    it('answers it as the service does: 201, the same headers, the same fields', async () => {
      const session = await boundSession();
      const [served, floor] = [await transfer(service, session, '0.01'), await transfer(floors['node:http'] ?? '', session, '0.01')];
      expect([served.status, floor.status], `${served.text} / ${floor.text}`).to.deep.equal([201, 201]);
      expect(comparable(floor.headers)).to.deep.equal(comparable(served.headers));
      expect(Object.keys(floor.body).sort()).to.deep.equal(Object.keys(served.body).sort());
      expect(floor.body).to.include({ fromAccount: ALICE.account, toAccount: BOB.account, amount: '0.01' });
    });

    it('refuses a body the signature does not cover', async () => {
      const session = await boundSession();
      const refused = await transfer(floors['node:http'] ?? '', session, '0.01', { amount: '0.02' });
      expect(refused.status).to.equal(403);
    });
  });
});
