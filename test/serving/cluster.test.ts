// WORKERS=2: two worker processes share one port and serve one session
// consistently (the session lives on the host); a dead worker is replaced;
// without Redis the primary keeps the used DPoP proofs, so a proof one worker
// accepted is refused by the other; one scrape of the metrics port shows
// every worker's series; a proof raced to both workers at once is served once;
// the login limit per client address counts across both workers. Needs a
// PostgreSQL server (PGlite is one process): a database of its own on the one
// TEST_PG_ADMIN_URL names (CI has it; elsewhere the suite says it skips).
import { expect } from 'chai';
import { get } from 'node:http';
import { TestDevice } from '../support/dpop.js';
import type { ScratchDatabase } from '../../scripts/scratch-database.js';
import { scratchPgDatabase, TEST_PIN_PEPPER, TEST_SECRET } from '../support/host.js';
import { spawnChild, type Child } from '../support/child.js';
import { freePort } from '../../scripts/local-service.js';
import { ALICE, loginBoundAt } from '../support/app.js';
import { fetchFrom } from '../support/fetch-from.js';

/** Small, so the limit is reached quickly; the logins from 127.0.0.1 above it count apart. */
const LOGINS_PER_MINUTE = 8;

/** One request on a fresh connection, so the primary may hand it to either worker. */
function fresh(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false, headers: { ...headers, connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('WORKERS=2 (node cluster)', function () {
  this.timeout(120_000);
  let child: Child;

  let database: ScratchDatabase | null = null;
  before(async function () {
    database = await scratchPgDatabase('api_cluster');
    if (!database) {
      console.log('      (skipped: no PostgreSQL server answers at TEST_PG_ADMIN_URL; CI has one)');
      this.skip();
    }
  });
  after(async () => {
    child?.kill();
    await child?.exited;
    await database?.drop();
  });

  it('serves one session from both workers, uses a proof once on both, counts one login limit, shows both in one scrape, and replaces a dead worker', async () => {
    if (!database) throw new Error('no database');
    const [port, metricsPort] = [await freePort(), await freePort()];
    child = spawnChild(['app/server.ts'], {
      WORKERS: '2', DB_URL: database.url, PORT: String(port), METRICS_PORT: String(metricsPort), JWT_SECRET: TEST_SECRET,
      PIN_PEPPER: TEST_PIN_PEPPER, NODE_ENV: 'development', LOG_LEVEL: 'info', PIN_KDF_COST: '1024', DEMO_DATA: 'true', REDIS_URL: '',
      LOGIN_RATE_PER_MINUTE: String(LOGINS_PER_MINUTE),
    });
    const listening = (count: number) => child.waitFor(/"msg":"listening"/, count);
    await listening(2);
    const base = `http://127.0.0.1:${port}`;
    const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ account: ALICE.account, pin: ALICE.pin }) });
    expect(login.status).to.equal(201);
    const { token } = await login.json() as { token: string };

    const bearer = { authorization: `Bearer ${token}` };
    const statuses = (await Promise.all(Array.from({ length: 40 }, () => fresh(`${base}/api/accounts`, bearer)))).map((r) => r.status);
    expect(statuses.every((s) => s === 200), statuses.join()).to.equal(true);
    await child.waitFor(/"route":"GET \/api\/accounts"/, 40); // the access lines follow the answers
    const servedBy = new Set(child.output.filter((l) => l.includes('"route":"GET /api/accounts"')).map((l) => JSON.parse(l).pid as number));
    expect(servedBy.size, 'both workers answered').to.equal(2);

    // A device-bound session: a proof one worker accepted is refused by both, as the primary remembers it.
    const phone = await TestDevice.create();
    const prove = (method: string, path: string, bound?: string) => phone.proof({ method, url: `${base}${path}`, token: bound });
    const boundToken = await loginBoundAt(base, phone, { account: ALICE.account, pin: ALICE.pin });
    const captured = { authorization: `DPoP ${boundToken}`, dpop: await prove('GET', '/api/accounts', boundToken) };
    expect((await fresh(`${base}/api/accounts`, captured)).status).to.equal(200);
    const replays = await Promise.all(Array.from({ length: 12 }, () => fresh(`${base}/api/accounts`, captured)));
    expect(replays.map((r) => r.status)).to.deep.equal(Array(12).fill(401));
    expect(replays.every((r) => JSON.parse(r.body).code === 'use_dpop_nonce')).to.equal(true);
    await child.waitFor(/"route":"GET \/api\/accounts".*"status":401/, 12);
    const refusedBy = new Set(child.output.filter((l) => l.includes('"route":"GET /api/accounts"') && l.includes('"status":401'))
      .map((l) => JSON.parse(l).pid as number));
    expect(refusedBy.size, 'both workers refused the replay').to.equal(2);
    // The same fresh proof thirty times at once, on both workers (questions to the primary go in batches): served once.
    const raced = { authorization: `DPoP ${boundToken}`, dpop: await prove('GET', '/api/accounts', boundToken) };
    const race = await Promise.all(Array.from({ length: 30 }, () => fresh(`${base}/api/accounts`, raced)));
    expect(race.filter((r) => r.status === 200), 'served once').to.have.length(1);
    expect(race.filter((r) => r.status === 401 && JSON.parse(r.body).code === 'use_dpop_nonce')).to.have.length(29);

    // The login limit counts per client address across both workers: alone, each would let LOGINS_PER_MINUTE through.
    const stranger = fetchFrom('127.0.0.7'); // an address of its own; every request a new connection, so both workers take some
    const loginLine = /"route":"POST \/api\/auth\/login"/;
    const loginsBefore = child.output.filter((l) => loginLine.test(l)).length;
    const attempts: number[] = [];
    for (let i = 0; i < LOGINS_PER_MINUTE + 3; i++) {
      attempts.push((await stranger(`${base}/api/auth/login`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ account: '123456789', pin: '0000' }),
      })).status);
    }
    expect(attempts.slice(0, LOGINS_PER_MINUTE).filter((status) => status === 429), attempts.join()).to.deep.equal([]);
    expect(attempts.slice(LOGINS_PER_MINUTE), attempts.join()).to.deep.equal([429, 429, 429]);
    await child.waitFor(loginLine, loginsBefore + attempts.length); // the access lines follow the answers
    const loginsBy = new Set(child.output.filter((l) => loginLine.test(l)).slice(loginsBefore).map((l) => JSON.parse(l).pid as number));
    expect(loginsBy.size, 'both workers took the stranger\u2019s logins, yet only LOGINS_PER_MINUTE got through').to.equal(2);

    const scrape = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const pids = new Set([...scrape.matchAll(/^http_request_duration_seconds_count\{[^}]*pid="(\d+)"[^}]*\} \d+/gm)].map((m) => Number(m[1])));
    expect([...pids].sort(), 'one scrape, every worker').to.deep.equal([...servedBy].sort());

    const [victim] = servedBy;
    if (victim === undefined) throw new Error('no worker to kill');
    process.kill(victim, 'SIGKILL');
    await child.waitFor(/worker died; starting a replacement/);
    await listening(3);
    const after = await Promise.all(Array.from({ length: 10 }, () => fresh(`${base}/api/accounts`, bearer)));
    expect(after.every((r) => r.status === 200)).to.equal(true);
    expect((await fresh(`${base}/api/accounts`, captured)).status, 'the primary still remembers the proof').to.equal(401);

    child.process.kill('SIGTERM');
    expect(await child.exited).to.equal(0);
  });
});
