// WORKERS=2: two worker processes share one port and serve one session
// consistently (the session lives on the host); a dead worker is replaced.
// Needs a PostgreSQL server (PGlite is one process): a database of its own on
// the one TEST_PG_ADMIN_URL names (CI has it; elsewhere the suite says it skips).
import { expect } from 'chai';
import { get } from 'node:http';
import type { ScratchDatabase } from '../../scripts/scratch-database.js';
import { scratchPgDatabase, TEST_PIN_PEPPER, TEST_SECRET } from '../support/host.js';
import { spawnChild, type Child } from '../support/child.js';
import { freePort } from '../../scripts/local-service.js';
import { ALICE } from '../support/app.js';

/** One request on a fresh connection, so the kernel may hand it to either worker. */
function fresh(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false, headers: { authorization: `Bearer ${token}`, connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
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

  it('serves one session from both workers and replaces a dead one', async () => {
    if (!database) throw new Error('no database');
    const port = await freePort();
    child = spawnChild(['app/server.ts'], {
      WORKERS: '2', DB_URL: database.url, PORT: String(port), JWT_SECRET: TEST_SECRET, PIN_PEPPER: TEST_PIN_PEPPER, NODE_ENV: 'development',
      LOG_LEVEL: 'info', PIN_KDF_COST: '1024', DEMO_DATA: 'true',
    });
    const listening = (count: number) => child.waitFor(/"msg":"listening"/, count);
    await listening(2);
    const base = `http://127.0.0.1:${port}`;
    const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ account: ALICE.account, pin: ALICE.pin }) });
    expect(login.status).to.equal(201);
    const { token } = await login.json() as { token: string };

    const statuses = await Promise.all(Array.from({ length: 40 }, () => fresh(`${base}/api/accounts`, token)));
    expect(statuses.every((s) => s === 200), statuses.join()).to.equal(true);
    const servedBy = new Set(child.output.filter((l) => l.includes('"route":"GET /api/accounts"')).map((l) => JSON.parse(l).pid as number));
    expect(servedBy.size, 'both workers answered').to.equal(2);

    const [victim] = servedBy;
    if (victim === undefined) throw new Error('no worker to kill');
    process.kill(victim, 'SIGKILL');
    await child.waitFor(/worker died; starting a replacement/);
    await listening(3);
    const after = await Promise.all(Array.from({ length: 10 }, () => fresh(`${base}/api/accounts`, token)));
    expect(after.every((s) => s === 200)).to.equal(true);

    child.process.kill('SIGTERM');
    expect(await child.exited).to.equal(0);
  });
});
