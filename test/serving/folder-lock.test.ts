// One owner per embedded data folder (issue #13): a second process refuses to
// start with one line and leaves the folder alone; a dead owner's lock is taken
// over, by exactly one of several processes that find it; `npm start`
// stopped by a signal drains the server and frees the port and the folder, and
// compiles first when a source changed since the last build.
import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FolderInUseError, lockDataFolder, takeoverClaimPath } from '../../db/pg/folder-lock.js';
import { openPglite } from '../../db/pg/pglite.js';
import { spawnChild, type Child } from '../support/child.js';
import { ALICE, request } from '../support/app.js';

const SECRET = 'folder-lock-secret-0123456789abcdefghijklmn';

function serverEnv(folder: string): Record<string, string> {
  return {
    DB_URL: `pglite:${folder}`, PORT: '0', METRICS_PORT: '0', JWT_SECRET: SECRET, PIN_KDF_COST: '1024', DEMO_DATA: 'true',
    NODE_ENV: 'development', LOG_LEVEL: 'info', PURGE_INTERVAL_SECONDS: '86400', // no timer writes while a test looks at the files
  };
}

/** Every file under `dir` with its size and modification time: what "left exactly as it was" compares. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (path: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) walk(child);
      else files[child] = `${statSync(child).size}:${statSync(child).mtimeMs}`;
    }
  };
  walk(dir);
  return files;
}

interface Owner {
  pid: number;
  startTime: string | null;
  bootId: string | null;
  pidNamespace: string | null;
  hostname: string;
}

const readOwner = (lockPath: string) => JSON.parse(readFileSync(lockPath, 'utf8')) as Owner;

/** This process as a lock file records it: the base that the forged locks below change one fact of. */
async function ownIdentity(dir: string): Promise<Owner> {
  const lock = await lockDataFolder(join(dir, 'identity'));
  const owner = readOwner(lock.path);
  await lock.release();
  return owner;
}

describe('one owner per embedded data folder', function () {
  this.timeout(300_000); // a bound for a busy 2-core machine, not a wait: every step waits on a line, an answer or an exit
  let dir: string;
  let folder: string;
  const children: Child[] = [];
  /** A child the current test owns: killed after it, whatever happened. */
  const spawned = (args: string[], env: Record<string, string>) => {
    const child = spawnChild(args, env);
    children.push(child);
    return child;
  };
  const serving = async (owned = true) => {
    const child = owned ? spawned(['app/server.ts'], serverEnv(folder)) : spawnChild(['app/server.ts'], serverEnv(folder));
    const line = JSON.parse(await child.waitFor(/"msg":"listening"/)) as { url: string; pid: number };
    return { child, url: line.url, pid: line.pid };
  };
  const stopped = async (child: Child) => {
    child.process.kill('SIGTERM');
    expect(await child.exited).to.equal(0);
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'api-folder-lock-'));
    folder = join(dir, 'host');
  });
  afterEach(async () => {
    for (const child of children.splice(0)) {
      child.kill();
      await child.exited;
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('while a server holds the folder', () => {
    let holder: Awaited<ReturnType<typeof serving>>;
    before(async () => {
      holder = await serving(false);
    });
    after(async () => {
      if (holder) await stopped(holder.child);
    });

    it('a second server refuses to start: one line naming the folder and the holder, exit 1, nothing written', async () => {
      const before = snapshot(dir);
      const second = spawned(['app/server.ts'], serverEnv(folder));
      expect(await second.exited).to.equal(1);
      expect(second.output).to.have.length(1);
      expect(second.output[0]).to.match(new RegExp(`^start-up failed: data folder ${folder} is in use by process ${holder.pid} \\(.*app/server\\.ts\\) since `));
      expect(snapshot(dir)).to.deep.equal(before);
      expect((await request(holder.url, 'GET', '/health/ready')).status, 'the holder serves on').to.equal(200);
    });

    it('npm run db:migrate refuses the same way', async () => {
      const migrate = spawned(['app/migrate-cli.ts'], serverEnv(folder));
      expect(await migrate.exited).to.equal(1);
      expect(migrate.output.join('\n')).to.match(new RegExp(`^migration failed: data folder ${folder} is in use by process ${holder.pid} `));
    });
  });

  describe('a lock whose owner is gone', () => {
    it('is taken over when its owner was killed with SIGKILL', async () => {
      const killed = await serving();
      killed.child.process.kill('SIGKILL');
      await killed.child.exited;
      expect(readOwner(`${folder}.lock`).pid, 'the dead owner\'s lock is still there').to.equal(killed.pid);

      const next = await serving();
      expect(readOwner(`${folder}.lock`).pid).to.equal(next.pid);
      expect((await request(next.url, 'POST', '/api/auth/login', { body: { account: ALICE.account, pin: ALICE.pin } })).status).to.equal(201);
      await stopped(next.child);
      expect(existsSync(`${folder}.lock`), 'released at the stop').to.equal(false);
    });

    it('is taken over when its pid runs again as another process, or it was written before the last boot', async () => {
      const self = await ownIdentity(dir);
      for (const stale of [{ ...self, startTime: '1' }, { ...self, bootId: 'a-boot-before-this-one' }]) {
        const path = join(dir, 'forged');
        writeFileSync(`${path}.lock`, JSON.stringify(stale));
        const lock = await lockDataFolder(path);
        expect(readOwner(lock.path)).to.include({ pid: process.pid, startTime: self.startTime, bootId: self.bootId });
        await lock.release();
        expect(existsSync(lock.path)).to.equal(false);
      }
    });

    it('is taken over by exactly one of several processes that find it at once', async () => {
      const path = join(dir, 'raced');
      const self = await ownIdentity(dir);
      writeFileSync(`${path}.lock`, JSON.stringify({ ...self, startTime: '1' }));
      for (let round = 0; round < 3; round++) {
        const contenders = Array.from({ length: 5 }, () => spawned(['test/fixtures/lock-contender.ts', path], {}));
        await Promise.all(contenders.map((contender) => contender.waitFor(/^ready$/)));
        for (const contender of contenders) contender.process.kill('SIGUSR2');
        const outcomes = await Promise.all(contenders.map((contender) => contender.waitFor(/^(locked|refused)/)));
        const winners = contenders.filter((_, i) => outcomes[i]?.startsWith('locked'));
        expect(winners, outcomes.join('\n')).to.have.length(1);
        const winner = winners[0]!;
        expect(readOwner(`${path}.lock`).pid).to.equal(winner.process.pid);
        for (const outcome of outcomes.filter((line) => line.startsWith('refused'))) {
          expect(outcome).to.contain(`is in use by process ${winner.process.pid} `);
        }
        // The next round races for the lock this winner leaves when it is killed.
        winner.kill();
        await winner.exited;
      }
      expect(readdirSync(dir).filter((name) => name.includes('.takeover-') || name.endsWith('.tmp'))).to.deep.equal([]);
    });

    it('is taken over even when a process died half-way through taking it over', async () => {
      const path = join(dir, 'half-taken');
      const self = await ownIdentity(dir);
      const staleText = JSON.stringify({ ...self, startTime: '1' });
      writeFileSync(`${path}.lock`, staleText);
      writeFileSync(takeoverClaimPath(`${path}.lock`, staleText), JSON.stringify({ ...self, startTime: '2' }));
      const lock = await lockDataFolder(path);
      expect(readOwner(lock.path).startTime).to.equal(self.startTime);
      expect(readdirSync(dir).filter((name) => name.includes('.takeover-'))).to.deep.equal([]);
      await lock.release();
    });
  });

  describe('a lock this host cannot check', () => {
    for (const [what, change, where] of [
      ['on another host', { hostname: 'elsewhere.example' }, 'on host elsewhere\\.example'],
      ['in another container on this host', { pidNamespace: 'pid:[1]' }, 'in another container on this host'],
    ] as const) {
      it(`is refused when it was taken ${what}, saying how to clear it`, async () => {
        const path = join(dir, 'foreign');
        const text = JSON.stringify({ ...await ownIdentity(dir), ...change });
        writeFileSync(`${path}.lock`, text);
        const refused = await lockDataFolder(path).then(() => null, (error: unknown) => error);
        expect(refused).to.be.instanceOf(FolderInUseError);
        expect((refused as Error).message).to.match(new RegExp(`^data folder ${path} is locked by process \\d+ .*${where}, .*if that process no longer runs, delete ${path}\\.lock$`));
        expect(readFileSync(`${path}.lock`, 'utf8'), 'left as it was').to.equal(text);
      });
    }
  });

  it('is released when the host closes, and opens again at once', async () => {
    const host = await openPglite(folder);
    expect(readOwner(`${folder}.lock`).pid).to.equal(process.pid);
    await host.close();
    expect(existsSync(`${folder}.lock`)).to.equal(false);
    await (await openPglite(folder)).close();
  });

  describe('npm start', () => {
    // npm's own CLI, run by node as /usr/bin/npm is (spawnChild adds tsx's loader, which compiles TypeScript only).
    const npmCli = process.env.npm_execpath?.endsWith('npm-cli.js') ? process.env.npm_execpath : '/usr/lib/node_modules/npm/bin/npm-cli.js';

    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      it(`stopped with ${signal} sent to npm drains the server: no process keeps the port or the folder`, async function () {
        if (!existsSync(npmCli)) this.skip();
        const npm = spawned([npmCli, 'start'], serverEnv(folder));
        const { url, pid } = JSON.parse(await npm.waitFor(/"msg":"listening"/)) as { url: string; pid: number };
        const parent = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1];
        expect(Number(parent), 'the server is npm\'s own child: no shell or tsx process between them').to.equal(npm.process.pid);
        // An answer means start-up got past installing its signal handlers (they follow the "listening" line).
        expect((await fetch(`${url}/health/live`)).status).to.equal(200);

        npm.process.kill(signal);
        expect(await npm.exited).to.equal(0);
        await npm.waitFor(/"msg":"stopped"/);
        expect(() => process.kill(pid, 0), 'the server process is gone').to.throw();
        expect(await fetch(`${url}/health/live`).then(() => 'answered', () => 'refused')).to.equal('refused');
        expect(existsSync(`${folder}.lock`), 'the folder is free').to.equal(false);
      });
    }

    it('compiles first when a source changed since the last build, then serves', async function () {
      if (!existsSync(npmCli)) this.skip();
      // A save in an editor: the file's time moves, its text stays (git sees nothing to commit).
      // In app/, the first folder the check reads, so the line names it whatever else changed.
      const source = 'app/healthcheck.ts';
      const { atimeMs, mtimeMs } = statSync(source);
      const saved = new Date();
      utimesSync(source, atimeMs / 1000, saved);
      try {
        const npm = spawned([npmCli, 'start'], serverEnv(folder));
        await npm.waitFor(/"msg":"listening"/);
        npm.process.kill('SIGTERM');
        expect(await npm.exited).to.equal(0);
        expect(npm.output.filter((line) => line.includes('compiling first'))).to.deep.equal([
          'npm start: app changed since the last build; compiling first (npm run build, a few seconds)']);
      } finally {
        utimesSync(source, atimeMs / 1000, mtimeMs / 1000);
      }
      expect(statSync('dist/.built').mtimeMs, 'the build began after the save').to.be.at.least(saved.getTime());
    });
  });
});
