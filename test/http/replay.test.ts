// A DPoP proof is used once on every instance that shares the replay memory:
// the workers of one instance (the cluster primary, test/serving/cluster),
// several instances through Redis (REDIS_URL), and an instance after a
// restart. The login limit per client address is shared the same way.
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { memoryState, type SharedState } from '../../auth/shared-state.js';
import { openSharedState } from '../../app/open-shared-state.js';
import { hostRow, resetHost } from '../support/host.js';
import { ALICE, startApp, TestClock, type Response, type TestApp } from '../support/app.js';
import { TestDevice } from '../support/dpop.js';
import { expectProblem } from '../support/expect.js';
import { OwnRedis, redisAnswers, redisServerInstalled, removeKeys, SHARED_REDIS_URL, testPrefix } from '../support/own-redis.js';

const LIMIT = { loginsPerMinute: 1000 };

interface Pair {
  clock: TestClock;
  one: TestApp;
  two: TestApp;
  phone: TestDevice;
  token: string;
}

/** Two instances on one host and one clock, each with the state `open` gives it; the phone logged in on the first. */
async function pair(open: (clock: TestClock) => Promise<SharedState> | SharedState, env: Record<string, string> = {}) {
  const clock = new TestClock();
  const states: SharedState[] = [];
  const apps: TestApp[] = [];
  const close = async () => {
    for (const app of apps) await app.close();
    for (const state of states) await state.close();
  };
  try {
    for (let i = 0; i < 2; i++) {
      const sharedState = await open(clock);
      states.push(sharedState);
      apps.push(await startApp(env, { clock, sharedState }));
    }
    const [one, two] = apps as [TestApp, TestApp];
    const phone = await TestDevice.create();
    const token = await one.loginAs(phone, ALICE.account, ALICE.pin);
    return { clock, one, two, phone, token, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** A GET with a proof signed for `instance` by hand (no automatic retry), or `proof` as given. */
async function read(instance: TestApp, phone: TestDevice, token: string, proof?: string, path = '/api/accounts'): Promise<Response> {
  const dpop = proof ?? await phone.proof({ method: 'GET', url: `${instance.url}${path}`, token, iat: Math.floor(instance.clock.now.getTime() / 1000) });
  return instance.request('GET', path, { headers: { authorization: `DPoP ${token}`, dpop } });
}

/** A proof for `path` on `instance`, which a replay on another instance must name too: instances share PUBLIC_ORIGIN. */
const ORIGIN = { PUBLIC_ORIGIN: 'https://api.bank.example' };
const proofFor = (phone: TestDevice, clock: TestClock, token: string, method: string, path: string) =>
  phone.proof({ method, url: `${ORIGIN.PUBLIC_ORIGIN}${path}`, token, iat: Math.floor(clock.now.getTime() / 1000) });

function expectFreshProofAsked(response: Response): void {
  expectProblem(response, 401, 'use_dpop_nonce');
  expect(response.headers.get('dpop-nonce')).to.match(/^\d+\.[\w-]{22}$/);
}

describe('a DPoP proof is used once', () => {
  describe('on instances that share one memory', () => {
    let setup: Pair & { close(): Promise<void> };
    beforeEach(async () => {
      await resetHost();
      const shared = memoryState(LIMIT, new TestClock().now);
      setup = await pair(() => shared, ORIGIN);
    });
    afterEach(() => setup?.close());

    it('refuses a proof replayed on the other instance, before any host call, and serves the device\u2019s fresh proof', async () => {
      const { one, two, phone, token, clock } = setup;
      const proof = await proofFor(phone, clock, token, 'GET', '/api/accounts');
      expect((await read(one, phone, token, proof)).status).to.equal(200);
      const hostCalls = two.host.stats().total;
      expectFreshProofAsked(await read(two, phone, token, proof));
      expectFreshProofAsked(await read(one, phone, token, proof));
      expect(two.host.stats().total).to.equal(hostCalls);
      expect((await read(two, phone, token, await proofFor(phone, clock, token, 'GET', '/api/accounts'))).status).to.equal(200);
    });

    it('refuses a captured PUT of the scratch pad replayed with another body; the host keeps the first', async () => {
      const { one, two, phone, token, clock } = setup;
      const proof = await proofFor(phone, clock, token, 'PUT', '/api/auth/session/scratchpad');
      const put = (instance: TestApp, body: object) => instance.request('PUT', '/api/auth/session/scratchpad', {
        body, headers: { authorization: `DPoP ${token}`, dpop: proof },
      });
      expect((await put(one, { payee: 'Bob' })).status).to.equal(204);
      expectFreshProofAsked(await put(two, { payee: 'Mallory' }));
      expect(JSON.parse(String((await hostRow('SELECT scratch_pad FROM host_session')).scratch_pad))).to.deep.equal({ payee: 'Bob' });
    });
  });

  describe('after an instance restarts (its memory begins again)', () => {
    it('asks for a fresh proof instead of serving one made before, which it cannot know it has not seen', async () => {
      await resetHost();
      const clock = new TestClock();
      const first = await startApp(ORIGIN, { clock });
      const phone = await TestDevice.create();
      const token = await first.loginAs(phone, ALICE.account, ALICE.pin);
      const proof = await proofFor(phone, clock, token, 'GET', '/api/accounts');
      expect((await read(first, phone, token, proof)).status).to.equal(200);
      await first.close();
      clock.advance(1);
      const restarted = await startApp(ORIGIN, { clock }); // a new process: a new memory
      try {
        expectFreshProofAsked(await read(restarted, phone, token, proof));
        expect((await read(restarted, phone, token, await proofFor(phone, clock, token, 'GET', '/api/accounts'))).status).to.equal(200);
      } finally {
        await restarted.close();
      }
    });
  });

  describe('in Redis (REDIS_URL), across instances', function () {
    const prefixes: string[] = [];
    let prefix = '';
    const redisState = (clock: TestClock) => openSharedState({ redisUrl: SHARED_REDIS_URL, redisKeyPrefix: prefix, loginRatePerMinute: 3 }, clock.now);
    let setup: (Pair & { close(): Promise<void> }) | undefined;

    before(async function () {
      if (!await redisAnswers()) {
        console.log(`      (skipped: no Redis answers at ${SHARED_REDIS_URL}; CI has one)`);
        this.skip();
      }
    });
    beforeEach(async () => {
      await resetHost();
      prefix = testPrefix('replay'); // each test its own keys: its own login counts
      prefixes.push(prefix);
      setup = await pair(redisState, { ...ORIGIN, TRUST_PROXY: '1', LOGIN_RATE_PER_MINUTE: '3' });
    });
    afterEach(() => setup?.close());
    after(async () => {
      for (const used of prefixes) await removeKeys(used);
    });

    it('refuses a proof replayed on another instance, and on an instance started after it was used', async () => {
      if (!setup) throw new Error('no setup');
      const { one, two, phone, token, clock } = setup;
      const proof = await proofFor(phone, clock, token, 'GET', '/api/accounts');
      expect((await read(one, phone, token, proof)).status).to.equal(200);
      expectFreshProofAsked(await read(two, phone, token, proof));
      const state = await redisState(clock);
      const restarted = await startApp(ORIGIN, { clock, sharedState: state });
      try {
        expectFreshProofAsked(await read(restarted, phone, token, proof));
      } finally {
        await restarted.close();
        await state.close();
      }
    });

    it('keeps each proof in Redis exactly as long as the proof could be accepted', async () => {
      if (!setup) throw new Error('no setup');
      const { one, phone, token, clock } = setup;
      clock.advance(30);
      const iat = Math.floor(clock.now.getTime() / 1000) - 30; // signed half a minute ago (when the memory began)
      const proof = await phone.proof({ method: 'GET', url: `${ORIGIN.PUBLIC_ORIGIN}/api/accounts`, token, iat });
      expect((await read(one, phone, token, proof)).status).to.equal(200);
      const ttls = await proofTtls(prefix);
      // Two nonce windows of 60 s and two clock skews of 5 s from its iat, 30 s of which have passed.
      expect(ttls.some((ttl) => ttl > 99_000 && ttl <= 100_000), ttls.join()).to.equal(true);
    });

    it('counts login attempts per client address across instances', async () => {
      if (!setup) throw new Error('no setup');
      const { one, two } = setup;
      const attempt = (instance: TestApp) => instance.request('POST', '/api/auth/login', {
        body: { account: ALICE.account, pin: ALICE.pin }, headers: { 'x-forwarded-for': '198.51.100.7' },
      });
      const statuses = [(await attempt(one)).status, (await attempt(two)).status, (await attempt(one)).status, (await attempt(two)).status];
      expect(statuses).to.deep.equal([201, 201, 201, 429]);
    });
  });

  describe('when Redis stops and comes back', function () {
    let redis: OwnRedis | undefined;
    let setup: (Pair & { close(): Promise<void> }) | undefined;
    const prefix = testPrefix('outage');

    before(async function () {
      if (!redisServerInstalled()) {
        console.log('      (skipped: no redis-server to start and stop; CI installs it)');
        this.skip();
      }
      await resetHost();
      redis = await OwnRedis.start();
      const url = redis.url;
      setup = await pair((clock) => openSharedState({ redisUrl: url, redisKeyPrefix: prefix, loginRatePerMinute: 2 }, clock.now),
        { ...ORIGIN, TRUST_PROXY: '1', LOGIN_RATE_PER_MINUTE: '2', SESSION_BINDING: 'optional' });
    });
    after(async () => {
      await setup?.close();
      await redis?.stop();
    });

    it('refuses device-bound requests with 503 temporarily_unavailable, never serves them unchecked', async () => {
      if (!setup || !redis) throw new Error('no setup');
      const { one, phone, token, clock } = setup;
      const served = await read(one, phone, token, await proofFor(phone, clock, token, 'GET', '/api/accounts'));
      expect(served.status, served.text).to.equal(200);
      await redis.stop();
      const refused = await read(one, phone, token, await proofFor(phone, clock, token, 'GET', '/api/accounts'));
      expectProblem(refused, 503, 'temporarily_unavailable');
      expect(refused.headers.get('retry-after')).to.equal('2');
    });

    it('still serves bearer sessions, and counts logins per instance meanwhile (shared_state_fallbacks_total)', async () => {
      if (!setup) throw new Error('no setup');
      const { one, two } = setup;
      const bearer = await one.login(ALICE.account, ALICE.pin);
      expect((await two.request('GET', '/api/accounts', { token: bearer })).status).to.equal(200);
      const attempt = (instance: TestApp) => instance.request('POST', '/api/auth/login', {
        body: { account: ALICE.account, pin: ALICE.pin }, headers: { 'x-forwarded-for': '198.51.100.9' },
      });
      // Two per minute on each instance now, not two in all.
      const statuses = [(await attempt(one)).status, (await attempt(one)).status, (await attempt(one)).status, (await attempt(two)).status];
      expect(statuses).to.deep.equal([201, 201, 429, 201]);
      expect(await one.app.metrics.text()).to.match(/^shared_state_fallbacks_total\{[^}]*\} [1-9]/m);
    });

    it('serves device-bound requests again once Redis is back, asking once for a proof made before it came back', async () => {
      if (!setup || !redis) throw new Error('no setup');
      const { one, two, phone, token, clock } = setup;
      const before = await proofFor(phone, clock, token, 'GET', '/api/accounts');
      clock.advance(1);
      await redis.start(); // empty: it kept nothing
      for (const instance of [one, two]) await eventuallyServed(instance, phone, token, clock); // each reconnects on its own
      expectFreshProofAsked(await read(two, phone, token, before));
      const proof = await proofFor(phone, clock, token, 'GET', '/api/accounts');
      expect((await read(two, phone, token, proof)).status).to.equal(200);
      expectFreshProofAsked(await read(one, phone, token, proof));
    });
  });
});

/** The remaining lives (ms) of the proofs recorded under `prefix`. */
async function proofTtls(prefix: string): Promise<number[]> {
  const client = new Redis(SHARED_REDIS_URL);
  try {
    const keys = (await client.keys(`${prefix}dpop:*`)).filter((key) => !key.endsWith(':since'));
    return Promise.all(keys.map((key) => client.pttl(key)));
  } finally {
    client.disconnect();
  }
}

/** ioredis reconnects on its own; until it has, requests are refused (503). */
async function eventuallyServed(instance: TestApp, phone: TestDevice, token: string, clock: TestClock): Promise<void> {
  for (;;) {
    const response = await read(instance, phone, token, await proofFor(phone, clock, token, 'GET', '/api/accounts'));
    if (response.status === 200) return;
    expect(response.status, response.text).to.equal(503);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
