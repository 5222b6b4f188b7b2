// No acknowledged write is lost (issue #13). The real server entry books
// transfers, logs a session out, writes employees and locks an account; it is
// killed with SIGKILL right after its answers (on PostgreSQL the database
// server is crashed too), and a new server on the same data must find every
// acknowledged write, and money neither made nor lost.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPglite } from '../../db/pg/pglite.js';
import { buildTemplate } from '../../db/pg/template.js';
import { spawnChild, type Child } from '../support/child.js';
import { OwnPostgres, postgresBinaries } from '../support/own-postgres.js';
import { ALICE, BOB, CAROL, request, STAFF, type Response } from '../support/app.js';

const SECRET = 'durability-secret-0123456789abcdefghijklmnop';
const PIN_PEPPER = 'durability-pepper-0123456789abcdefghijklmnop';
const AMOUNT_CENTS = 1000; // 10.00: far below the step-up amount, and the run stays under the daily limits
const ACKNOWLEDGED_TRANSFERS = 40;

interface Server {
  child: Child;
  url: string;
}

async function startServer(dbUrl: string): Promise<Server> {
  const child = spawnChild(['app/server.ts'], {
    DB_URL: dbUrl, PORT: '0', METRICS_PORT: '0', JWT_SECRET: SECRET, PIN_PEPPER, PIN_KDF_COST: '1024', DEMO_DATA: 'true',
    NODE_ENV: 'development', LOG_LEVEL: 'info', LOGIN_RATE_PER_MINUTE: '1000', PURGE_INTERVAL_SECONDS: '86400',
  });
  const { url } = JSON.parse(await child.waitFor(/"msg":"listening"/)) as { url: string };
  return { child, url };
}

const cents = (amount: string) => Math.round(Number(amount) * 100);

async function login(url: string, account: string, pin: string): Promise<string> {
  const response = await request(url, 'POST', '/api/auth/login', { body: { account, pin } });
  expect(response.status, `login ${account}: ${response.text}`).to.equal(201);
  return response.body.token as string;
}

interface Transfer {
  key: string;
  token: string;
  body: { bankId: string; fromAccount: string; toAccount: string; amount: string };
  transferId: string;
}

/** What the server acknowledged before it died, and what was in flight when it did. */
interface Acknowledged {
  transfers: Transfer[];
  /** Sent, unanswered at the crash: each may or may not be booked. */
  inFlight: { fromAlice: number; toAlice: number };
  tokens: { alice: string; bob: string; staff: string; loggedOut: string };
  /** Before the first transfer: Alice's main account, its ledger length, and the money on Alice's and Bob's accounts. */
  before: { aliceMain: number; lines: number; total: number };
}

/**
 * The writes, then the crash: transfer workers run until enough transfers are
 * acknowledged and the other writes are done alongside them; `crash` is called
 * from the very answer that completes both, while other transfers are in flight.
 */
async function writeThenCrash(url: string, crash: () => void): Promise<Acknowledged> {
  const tokens = {
    alice: await login(url, ALICE.account, ALICE.pin), bob: await login(url, BOB.account, BOB.pin),
    staff: await login(url, STAFF.account, STAFF.pin), loggedOut: await login(url, ALICE.account, ALICE.pin),
  };
  const before = await moneyOf(url, tokens);
  const transfers: Transfer[] = [];
  const inFlight = { fromAlice: 0, toAlice: 0 };
  let otherWritesDone = false;
  let crashed = false;
  const crashOnceDone = () => {
    if (crashed || !otherWritesDone || transfers.length < ACKNOWLEDGED_TRANSFERS) return;
    crashed = true;
    crash();
  };

  const transferWorker = async (worker: number, token: string, fromAccount: string, toAccount: string) => {
    for (let n = 0; !crashed; n++) {
      const key = `durability-${worker}-${n}-${process.pid}`;
      const body = { bankId: 'DEMOBANK1', fromAccount, toAccount, amount: (AMOUNT_CENTS / 100).toFixed(2) };
      const direction = fromAccount === ALICE.account ? 'fromAlice' : 'toAlice';
      inFlight[direction]++;
      let response;
      try {
        response = await request(url, 'POST', '/api/transfers', { token, body, headers: { 'idempotency-key': key } });
      } catch {
        return; // the connection died with the server: this one stays counted as in flight
      }
      if (crashed) return; // answered after we pulled the plug: no promise was made before the crash, so it counts as in flight
      inFlight[direction]--;
      expect(response.status, response.text).to.equal(201);
      transfers.push({ key, token, body, transferId: response.body.transferId });
      crashOnceDone();
    }
  };

  const otherWrites = async () => {
    const call = (method: string, path: string, token: string, body?: unknown) => request(url, method, path, { token, body });
    expect((await call('DELETE', '/api/auth/session', tokens.loggedOut)).status).to.equal(204);
    expect((await call('POST', '/api/sample/employee', tokens.staff, { empno: '990001', firstName: 'KEPT', lastName: 'CREATED', edLevel: 12 })).status).to.equal(201);
    expect((await call('POST', '/api/sample/employee', tokens.staff, { empno: '990002', firstName: 'KEPT', lastName: 'BEFORE', edLevel: 12 })).status).to.equal(201);
    expect((await call('PUT', '/api/sample/employee/990002', tokens.staff, { lastName: 'UPDATED' })).status).to.equal(200);
    expect((await call('POST', '/api/sample/employee', tokens.staff, { empno: '990003', firstName: 'GONE', lastName: 'DELETED', edLevel: 12 })).status).to.equal(201);
    expect((await call('DELETE', '/api/sample/employee/990003', tokens.staff)).status).to.equal(204);
    for (let attempt = 0; attempt < 5; attempt++) {
      expect((await request(url, 'POST', '/api/auth/login', { body: { account: CAROL.account, pin: '00000' } })).status).to.equal(401);
    }
    expect((await request(url, 'POST', '/api/auth/login', { body: { account: CAROL.account, pin: CAROL.pin } })).status).to.equal(423);
    otherWritesDone = true;
    crashOnceDone();
  };

  await Promise.all([
    transferWorker(1, tokens.alice, ALICE.account, BOB.account),
    transferWorker(2, tokens.alice, ALICE.account, BOB.account),
    transferWorker(3, tokens.bob, BOB.account, ALICE.account),
    transferWorker(4, tokens.bob, BOB.account, ALICE.account),
    otherWrites(),
  ]);
  expect(crashed).to.equal(true);
  return { transfers, inFlight, tokens, before };
}

async function balances(url: string, token: string): Promise<Map<string, number>> {
  const response = await request(url, 'GET', '/api/accounts', { token });
  expect(response.status, response.text).to.equal(200);
  return new Map((response.body.items as { accountId: string; balance: string }[]).map((a) => [a.accountId, cents(a.balance)]));
}

async function ledgerLength(url: string, token: string, accountId: string): Promise<number> {
  let length = 0;
  let cursor: string | null = null;
  do {
    const page: Response = await request(url, 'GET', `/api/accounts/${accountId}/transactions?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token });
    expect(page.status, page.text).to.equal(200);
    length += (page.body.items as unknown[]).length;
    cursor = page.body.nextCursor ?? null;
  } while (cursor);
  return length;
}

async function moneyOf(url: string, tokens: { alice: string; bob: string }): Promise<Acknowledged['before']> {
  const alice = await balances(url, tokens.alice);
  const bob = await balances(url, tokens.bob);
  const aliceMain = alice.get(ALICE.account) ?? NaN;
  return { aliceMain, lines: await ledgerLength(url, tokens.alice, ALICE.account), total: aliceMain + (alice.get(ALICE.savings) ?? NaN) + (bob.get(BOB.account) ?? NaN) };
}

/** Everything acknowledged is there, money is conserved, and nothing in flight was booked twice or by halves. */
async function expectAllKept(url: string, acknowledged: Acknowledged): Promise<void> {
  const { transfers, inFlight, tokens, before } = acknowledged;
  const now = await moneyOf(url, tokens);
  expect(now.total, 'money conserved').to.equal(before.total);

  // Alice's main account: every booked transfer is one ledger line and moves 10.00.
  // Solve for how many of the in-flight ones were booked, and check that those fit.
  const fromAlice = transfers.filter((t) => t.body.fromAccount === ALICE.account).length;
  const toAlice = transfers.length - fromAlice;
  const net = (now.aliceMain - before.aliceMain) / AMOUNT_CENTS; // = (toAlice + y) - (fromAlice + x)
  const extra = now.lines - before.lines - fromAlice - toAlice; // = x + y
  const x = (extra - net + toAlice - fromAlice) / 2;
  const y = extra - x;
  expect(Number.isInteger(x) && x >= 0 && x <= inFlight.fromAlice, `in-flight transfers from Alice booked: ${x} of ${inFlight.fromAlice}`).to.equal(true);
  expect(Number.isInteger(y) && y >= 0 && y <= inFlight.toAlice, `in-flight transfers to Alice booked: ${y} of ${inFlight.toAlice}`).to.equal(true);

  // Each acknowledged transfer is on the host: its replay answers its original transfer id and books nothing.
  for (const transfer of transfers) {
    const replay = await request(url, 'POST', '/api/transfers', { token: transfer.token, body: transfer.body, headers: { 'idempotency-key': transfer.key } });
    expect(replay.status, replay.text).to.equal(201);
    expect(replay.body.transferId, `transfer ${transfer.key}`).to.equal(transfer.transferId);
  }
  expect((await balances(url, tokens.alice)).get(ALICE.account), 'replays booked nothing').to.equal(now.aliceMain);

  expect((await request(url, 'GET', '/api/accounts', { token: tokens.loggedOut })).status, 'a logged-out token stays refused').to.equal(401);
  const employee = (empno: string) => request(url, 'GET', `/api/sample/employee/${empno}`, { token: tokens.staff });
  expect((await employee('990001')).body.lastName).to.equal('CREATED');
  expect((await employee('990002')).body.lastName).to.equal('UPDATED');
  expect((await employee('990003')).status).to.equal(404);
  expect((await request(url, 'POST', '/api/auth/login', { body: { account: CAROL.account, pin: CAROL.pin } })).status, 'a locked account stays locked').to.equal(423);
}

describe('no acknowledged write is lost when the service is killed', function () {
  this.timeout(600_000); // a bound for a busy 2-core machine, not a wait: every step waits on an answer or an exit
  const children: Child[] = [];
  const started = async (dbUrl: string) => {
    const server = await startServer(dbUrl);
    children.push(server.child);
    return server;
  };
  // A test that failed half-way leaves its server: kill it, so the next test's start takes over the folder it held.
  afterEach(async () => {
    for (const child of children.splice(0)) {
      child.kill();
      await child.exited;
    }
  });
  const stopped = async (server: Server) => {
    server.child.process.kill('SIGTERM');
    expect(await server.child.exited).to.equal(0);
  };

  describe('on the embedded host', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'api-durability-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('keeps every acknowledged write after kill -9', async () => {
      const dbUrl = `pglite:${join(dir, 'host')}`;
      const first = await started(dbUrl);
      const acknowledged = await writeThenCrash(first.url, () => first.child.process.kill('SIGKILL'));
      await first.child.exited;
      const second = await started(dbUrl); // also takes over the lock the killed process left
      await expectAllKept(second.url, acknowledged);
      await stopped(second);
    });

    it('has each commit on disk (the WAL fdatasync-ed), not only in the page cache, before it answers', async function () {
      const strace = '/usr/bin/strace';
      const server = await started(`pglite:${join(dir, 'host')}`);
      const trace = join(dir, 'strace.out');
      // -y names each descriptor's file, so the syncs can be told to be the WAL's.
      const tracer = spawn(strace, ['-f', '-y', '-e', 'trace=fdatasync,fsync', '-o', trace, '-p', String(server.child.process.pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
      const attached = await new Promise<boolean>((resolve) => {
        tracer.stderr.on('data', (chunk: Buffer) => { if (/attached/.test(chunk.toString())) resolve(true); });
        tracer.once('error', () => resolve(false));
        tracer.once('exit', () => resolve(false));
      });
      if (!attached) {
        console.log('      (skipped: strace is missing or may not attach to a process here)');
        this.skip();
      }
      const token = await login(server.url, ALICE.account, ALICE.pin);
      const count = 20;
      for (let n = 0; n < count; n++) {
        const response = await request(server.url, 'POST', '/api/transfers', {
          token, headers: { 'idempotency-key': `durability-sync-${n}-${process.pid}` },
          body: { bankId: 'DEMOBANK1', fromAccount: ALICE.account, toAccount: ALICE.savings, amount: '1.00' },
        });
        expect(response.status, response.text).to.equal(201);
      }
      const detached = new Promise((resolve) => tracer.once('exit', resolve));
      tracer.kill('SIGINT');
      await detached;
      const walSyncs = readFileSync(trace, 'utf8').split('\n').filter((line) => /fdatasync\(\d+<[^>]*\/pg_wal\/[0-9A-F]{24}>\) = 0/.test(line));
      // One login and `count` transfers committed: at least one WAL sync each.
      expect(walSyncs.length).to.be.at.least(count + 1);
      await stopped(server);
    });
  });

  describe('creating an embedded data folder', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'api-durability-create-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('clears a creation that crashed half-way (its marker is still there) and creates the folder again', async () => {
      const folder = join(dir, 'half-made');
      mkdirSync(folder);
      writeFileSync(join(folder, 'PG_VERSION'), '18\n'); // initdb's copy got this far
      writeFileSync(`${folder}.creating`, 'a crashed creation\n');
      const host = await openPglite(folder);
      try {
        expect(await host.query({ name: 'test.durability.settings', sql: "SELECT current_setting('fsync') AS fsync, current_setting('wal_sync_method') AS method" }, []))
          .to.deep.equal([{ fsync: 'on', method: 'fsync' }]);
        expect(existsSync(`${folder}.creating`), 'the marker goes once the folder is on disk').to.equal(false);
      } finally {
        await host.close();
      }
    });

    /** A digest of every file's path and bytes under `root`. */
    function treeDigest(root: string): string {
      const hash = createHash('sha256');
      for (const entry of readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())) {
        const path = join(entry.parentPath, entry.name);
        hash.update(path.slice(root.length)).update(readFileSync(path));
      }
      return hash.digest('hex');
    }

    describe('from the pre-initialised template', () => {
      let template: string;
      before(async function () {
        this.timeout(120_000); // one initdb
        template = join(dir, 'template');
        expect(await buildTemplate(template)).to.equal('built');
        writeFileSync(join(template, 'copied-from-template'), 'yes\n'); // PostgreSQL ignores a stranger in its folder
      });

      it('is built once: a later build finds it, and of two racing builds one wins and the other leaves nothing behind', async function () {
        this.timeout(120_000);
        expect(await buildTemplate(template)).to.equal('present');
        const raced = join(dir, 'raced');
        expect((await Promise.all([buildTemplate(raced), buildTemplate(raced)])).sort()).to.deep.equal(['built', 'present']);
        expect(readdirSync(dir).filter((name) => name.endsWith('.tmp')), 'no scratch folder left').to.deep.equal([]);
        expect(readFileSync(join(raced, 'PG_VERSION'), 'utf8')).to.match(/^\d+\n$/);
      });

      it('gives a new folder a copy: durable, working, and the template untouched by what the folder does', async () => {
        const before = treeDigest(template);
        const folder = join(dir, 'from-template');
        const host = await openPglite(folder, template);
        try {
          expect(readFileSync(join(folder, 'copied-from-template'), 'utf8')).to.equal('yes\n');
          expect(await host.query({ name: 'test.durability.settings', sql: "SELECT current_setting('fsync') AS fsync, current_setting('wal_sync_method') AS method" }, []))
            .to.deep.equal([{ fsync: 'on', method: 'fsync' }]);
          await host.runScript('CREATE TABLE written_here (n INTEGER); INSERT INTO written_here VALUES (1)');
          expect(existsSync(`${folder}.creating`)).to.equal(false);
        } finally {
          await host.close();
        }
        expect(treeDigest(template), 'the template is a copy source, never opened').to.equal(before);
        const again = await openPglite(folder, template);
        try {
          expect(await again.query({ name: 'test.durability.written', sql: 'SELECT n FROM written_here' }, [])).to.deep.equal([{ n: 1 }]);
        } finally {
          await again.close();
        }
      });
    });

    it('runs initdb where no template was built', async () => {
      const folder = join(dir, 'no-template');
      const host = await openPglite(folder, join(dir, 'never-built'));
      try {
        expect(await host.query({ name: 'test.durability.one', sql: 'SELECT 1 AS one' }, [])).to.deep.equal([{ one: 1 }]);
        expect(existsSync(join(folder, 'copied-from-template'))).to.equal(false);
      } finally {
        await host.close();
      }
    });

    it('refuses a folder that holds something else, and leaves it alone', async () => {
      const folder = join(dir, 'not-ours');
      mkdirSync(folder);
      writeFileSync(join(folder, 'notes.txt'), 'mine\n');
      const refused = await openPglite(folder).then(() => null, (error: unknown) => error);
      expect((refused as Error).message).to.equal(`${folder} is neither empty nor a PGlite data folder (it has no PG_VERSION)`);
      expect(readdirSync(folder)).to.deep.equal(['notes.txt']);
      expect(existsSync(`${folder}.lock`), 'and releases it').to.equal(false);
    });
  });

  describe('on a PostgreSQL server of its own, with fsync on', () => {
    let pg: OwnPostgres;
    before(async function () {
      if (!postgresBinaries()) {
        console.log('      (skipped: no PostgreSQL binaries under /usr/lib/postgresql)');
        this.skip();
      }
      pg = await OwnPostgres.create();
      pg.start({ fsync: true });
    });
    after(() => pg?.destroy());

    it('keeps every acknowledged write after kill -9 of the API and an immediate stop of the database', async () => {
      const first = await started(pg.url);
      const acknowledged = await writeThenCrash(first.url, () => {
        first.child.process.kill('SIGKILL');
        pg.stop(); // pg_ctl stop -m immediate: no shutdown checkpoint, crash recovery at the next start
      });
      await first.child.exited;
      pg.start({ fsync: true });
      const second = await started(pg.url);
      await expectAllKept(second.url, acknowledged);
      await stopped(second);
    });
  });
});
