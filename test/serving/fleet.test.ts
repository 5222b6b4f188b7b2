// The fleet, as deploy/ ships it: three instances (the third a node cluster of
// two workers) behind the shipped nginx, on a PostgreSQL server and Redis, in
// production mode (device-bound sessions only). A proof is used once on every
// instance and worker; the login limit is one limit; a logout anywhere ends
// the session everywhere; nginx repeats only requests that are safe to repeat;
// and an instance killed under load is taken out with no client seeing an
// error and no transfer booked twice: the seed's heartbeat failover, shown.
import { expect } from 'chai';
import { createServer, type Server } from 'node:net';
import { BankClient, type TransferResult } from '../../client/src/index.js';
import type { Host, Row } from '../../db/host.js';
import { openHost } from '../../db/open.js';
import { freePort } from '../../scripts/local-service.js';
import type { ScratchDatabase } from '../../scripts/scratch-database.js';
import { ALICE, BOB, loginBoundAt, request, type Response } from '../support/app.js';
import { spawnChild, whenOutput, type Child } from '../support/child.js';
import { TestDevice } from '../support/dpop.js';
import { fetchFrom } from '../support/fetch-from.js';
import { scratchPgDatabase, TEST_PIN_PEPPER, TEST_SECRET } from '../support/host.js';
import { nginxInstalled, startBalancer, type Balancer } from '../support/nginx.js';
import { redisAnswers, removeKeys, SHARED_REDIS_URL, testPrefix } from '../support/own-redis.js';

const LOGINS_PER_MINUTE = 5;

interface Instance {
  name: string;
  url: string;
  /** Its metrics listener: one scrape shows every worker. */
  metrics: string;
  child: Child;
}

/** The host round trips an instance has made, all its workers together, as its metrics say. */
async function hostCalls(instance: Instance): Promise<number> {
  const scrape = await (await fetch(`${instance.metrics}/metrics`)).text();
  return [...scrape.matchAll(/^host_calls_total\{[^}]*\} (\d+)$/gm)].reduce((sum, [, count]) => sum + Number(count), 0);
}

/** Lines an instance logged for `route` with `status`, and the worker pids that logged them. */
function served(instance: Instance, route: string, status?: number): { count: number; pids: Set<number> } {
  const lines = instance.child.output.filter((line) => line.includes(`"route":"${route}"`) && (status === undefined || line.includes(`"status":${status}`)));
  return { count: lines.length, pids: new Set(lines.map((line) => (JSON.parse(line) as { pid: number }).pid)) };
}

/** A TCP server that takes each request and drops the connection unanswered (an instance dying mid-request); it counts what it saw. */
async function dropper(): Promise<{ server: Server; address: string; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((socket) => {
    socket.once('data', (chunk) => {
      seen.push(String(chunk).split(' ')[0] ?? '');
      socket.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { server, address: `127.0.0.1:${port}`, seen };
}

describe('a fleet: three instances behind the shipped nginx, on PostgreSQL and Redis', function () {
  this.timeout(240_000);
  const prefix = testPrefix('fleet');
  let database: ScratchDatabase | null = null;
  let host: Host | undefined;
  let nginx: Balancer | undefined;
  const instances: Instance[] = [];
  let origin = '';

  const rows = (sql: string, params: (string | number)[] = []): Promise<Row[]> =>
    (host as Host).query({ name: `fleet.${sql.length}.${sql.slice(0, 24).replace(/\W/g, '')}`, sql }, params);

  before(async function () {
    const missing = [!nginxInstalled() && 'nginx', !await redisAnswers() && `Redis at ${SHARED_REDIS_URL}`].filter(Boolean);
    database = missing.length ? null : await scratchPgDatabase('api_fleet');
    if (!database) missing.push('a PostgreSQL server');
    if (missing.length || !database) {
      console.log(`      (skipped: needs ${missing.join(', ')}; CI has them)`);
      this.skip();
    }
    const balancerPort = await freePort();
    origin = `http://127.0.0.1:${balancerPort}`;
    const start = async (name: string, workers: number): Promise<Instance> => {
      const [port, metricsPort] = [await freePort(), await freePort()];
      const child = spawnChild(['app/server.ts'], {
        NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), METRICS_PORT: String(metricsPort), WORKERS: String(workers),
        DB_URL: database?.url ?? '', REDIS_URL: SHARED_REDIS_URL, REDIS_KEY_PREFIX: prefix, PUBLIC_ORIGIN: origin, TRUST_PROXY: '1',
        JWT_SECRET: TEST_SECRET, PIN_PEPPER: TEST_PIN_PEPPER, PIN_KDF_COST: '1024', DEMO_DATA: 'true',
        LOGIN_RATE_PER_MINUTE: String(LOGINS_PER_MINUTE), LOG_LEVEL: 'info', PURGE_INTERVAL_SECONDS: '86400', SHUTDOWN_GRACE_SECONDS: '2',
      });
      const instance = { name, url: `http://127.0.0.1:${port}`, metrics: `http://127.0.0.1:${metricsPort}`, child };
      instances.push(instance);
      await child.waitFor(/"msg":"listening"/, workers);
      return instance;
    };
    await start('A', 1); // migrates and seeds the new database first
    await Promise.all([start('B', 1), start('C', 2)]);
    nginx = await startBalancer(instances.map((instance) => new URL(instance.url).host), balancerPort);
    host = await openHost(database.url, { poolSize: 2, acquireTimeoutMs: 5000, statementTimeoutMs: 20_000, lockTimeoutMs: 15_000 });
  });

  after(async () => {
    await nginx?.stop();
    for (const { child } of instances) child.kill();
    await Promise.all(instances.map(({ child }) => child.exited));
    await host?.close();
    await database?.drop();
    if (database) await removeKeys(prefix);
  });

  /** A phone that logs in through the balancer and sends proofs it signs by hand (so a test can replay one). */
  async function phoneLoggedIn(): Promise<{ phone: TestDevice; token: string; send(target: string, method: string, path: string, proof?: string): Promise<Response> }> {
    const phone = await TestDevice.create();
    const token = await loginBoundAt(origin, phone, { account: ALICE.account, pin: ALICE.pin });
    const send = async (target: string, method: string, path: string, proof?: string) => {
      const dpop = proof ?? await phone.proof({ method, url: `${origin}${path}`, token });
      const response = await request(target, method, path, { headers: { dpop, authorization: `DPoP ${token}` } });
      phone.nonce = response.headers.get('dpop-nonce') ?? phone.nonce;
      return response;
    };
    return { phone, token, send };
  }

  it('refuses a proof used through the balancer on every instance and every worker, before any host call', async () => {
    const { phone, token, send } = await phoneLoggedIn();
    const captured = await phone.proof({ method: 'GET', url: `${origin}/api/accounts`, token });
    expect((await send(origin, 'GET', '/api/accounts', captured)).status).to.equal(200);
    const [a, b, c] = instances as [Instance, Instance, Instance];
    const before = served(c, 'GET /api/accounts', 401).count;
    const callsBefore = await Promise.all(instances.map(hostCalls));
    expect(callsBefore.reduce((sum, calls) => sum + calls), 'the metric counts: the login and the first read called the host').to.be.greaterThan(0);
    for (const instance of [a, b, c, c, c, c, c, c]) { // fresh connections: the cluster hands them to both of C's workers
      const replayed = await send(instance.url, 'GET', '/api/accounts', captured);
      expect(replayed.status, `${instance.name}: ${replayed.text}`).to.equal(401);
      expect(replayed.body.code).to.equal('use_dpop_nonce');
    }
    await whenOutput([c.child], () => served(c, 'GET /api/accounts', 401).count >= before + 6);
    const refusedByC = served(c, 'GET /api/accounts', 401);
    expect(refusedByC.count - before).to.equal(6);
    expect(refusedByC.pids.size, 'both of C\u2019s workers refused it').to.equal(2);
    expect(await Promise.all(instances.map(hostCalls)), 'no instance asked the host about a replay').to.deep.equal(callsBefore);
  });

  it('counts the login limit once for the whole fleet, per client address', async () => {
    const attacker = fetchFrom('127.0.0.5');
    const before = instances.map((instance) => served(instance, 'POST /api/auth/login', 401).count);
    const statuses: number[] = [];
    for (let i = 0; i < LOGINS_PER_MINUTE + 3; i++) {
      statuses.push((await attacker(`${origin}/api/auth/login`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ account: '123456789', pin: '0000' }),
      })).status);
    }
    // The API refuses logins without a proof in production (401 dpop_required) once the limit lets them through at all.
    expect(statuses).to.deep.equal([...Array(LOGINS_PER_MINUTE).fill(401), 429, 429, 429]);
    const answeredBy = () => instances.map((instance, i) => served(instance, 'POST /api/auth/login', 401).count - (before[i] ?? 0));
    await whenOutput(instances.map((instance) => instance.child), () => answeredBy().reduce((a, b) => a + b) >= LOGINS_PER_MINUTE);
    expect(answeredBy().filter((n) => n > 0).length, `round robin spread them: ${answeredBy().join()}`).to.equal(3);
  });

  it('ends the session everywhere when one instance logs it out', async () => {
    const { send } = await phoneLoggedIn();
    const [a, b, c] = instances as [Instance, Instance, Instance];
    expect((await send(b.url, 'GET', '/api/accounts')).status).to.equal(200);
    expect((await send(a.url, 'DELETE', '/api/auth/session')).status).to.equal(204);
    for (const instance of [b, c, c]) {
      const after = await send(instance.url, 'GET', '/api/accounts');
      expect(after.status, instance.name).to.equal(401);
      expect(after.body.code).to.equal('session_expired');
    }
  });

  it('repeats through nginx a GET an instance dropped unanswered, never a POST', async () => {
    const droppers = [await dropper(), await dropper(), await dropper()];
    const balancer = await startBalancer(droppers.map((d) => d.address));
    const seen = () => droppers.flatMap((d) => d.seen);
    try {
      // Each dropped request also takes its instance out (max_fails=1), so the POST goes first.
      const post = await fetch(`${balancer.url}/api/transfers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(post.status, 'no instance answered').to.equal(502);
      expect(seen(), 'the POST went to one instance, once').to.deep.equal(['POST']);
      const get = await fetch(`${balancer.url}/api/accounts`);
      expect(get.status).to.equal(502);
      expect(seen(), 'the GET went to each instance still in').to.deep.equal(['POST', 'GET', 'GET']);
    } finally {
      await balancer.stop();
      for (const { server } of droppers) server.close();
    }
  });

  it('takes an instance killed under load out: no client sees an error, no transfer is booked twice', async () => {
    const [, victim] = instances as [Instance, Instance, Instance];
    const phones = await Promise.all(Array.from({ length: 6 }, async (_, i) => {
      const bank = new BankClient({ baseUrl: origin, fetch: fetchFrom(`127.0.0.${20 + i}`), retry: { delayMs: () => 100 } });
      await bank.login(ALICE.account, ALICE.pin, { deviceLabel: `phone ${i}` });
      return bank;
    }));
    const ROUNDS = 25;
    const KILL_AFTER = 40; // completed calls, of 6 × 25 reads and 6 × 5 transfers
    let completed = 0;
    const errors: unknown[] = [];
    const transfers: TransferResult[] = [];
    await Promise.all(phones.map(async (bank, i) => {
      for (let round = 0; round < ROUNDS; round++) {
        try {
          await bank.accounts();
          if (round % 5 === 4) transfers.push(await bank.transfer({ fromAccount: ALICE.account, toAccount: BOB.account, amount: '1.00', reference: `fleet ${i}.${round}` }));
        } catch (error) {
          errors.push(error);
        }
        if (++completed === KILL_AFTER) victim.child.process.kill('SIGKILL'); // mid-run, with calls in flight
      }
    }));
    expect(await victim.child.exited, 'the victim was killed').to.equal(null);
    expect(errors.map(String), 'errors clients saw').to.deep.equal([]);
    expect(nginx?.errors(), 'nginx gave up on the dead instance').to.include(new URL(victim.url).host);

    expect(transfers).to.have.length(30);
    expect(new Set(transfers.map((t) => t.idempotencyKey)).size).to.equal(30);
    const booked = await rows("SELECT transfer_id FROM transfer WHERE reference LIKE 'fleet %'");
    expect(booked.map((row) => String(row.transfer_id).trim()).sort()).to.deep.equal(transfers.map((t) => t.transferId).sort());
    const legs = await rows("SELECT transfer_id, COUNT(*) AS n FROM ledger_entry WHERE reference LIKE 'fleet %' GROUP BY transfer_id");
    expect(legs.every((row) => Number(row.n) === 2), 'two legs each, never four').to.equal(true);
    const balances = await rows('SELECT account_id, balance FROM account WHERE account_id IN (?, ?) ORDER BY account_id', [ALICE.account, BOB.account]);
    expect(balances.map((row) => String(row.balance))).to.deep.equal(['970.00', '1030.00']);
  });
});
