// Contract tests for the Db2 driver: the CALL text, parameter binding (OUT
// parameters included), pooling and error mapping, against a stand-in for
// the ibm_db binding. What a real Db2 does with the SQL is not tested here.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { parseDb2Url } from '../../db/db2/connection.js';
import { db2Timestamp, Db2Host, splitScript } from '../../db/db2/driver.js';
import { HostConflictError, HostError, HostUnavailableError } from '../../db/host.js';
import { migrate } from '../../db/migrate.js';
import { listEmployees } from '../../db/employees.js';
import { login, resolveSession } from '../../db/sessions.js';
import { transfer } from '../../db/accounts.js';
import { db2Error, FakeIbmDb, param } from '../support/fake-ibm-db.js';

const URL = 'db2://db2inst1:s3cret@db2.example.internal:50000/BANKDB?schema=bank';
const NOW = new Date('2026-11-25T10:00:00.123Z');
const open = (fake: FakeIbmDb, poolSize = 4, acquireTimeoutMs = 200) =>
  new Db2Host(parseDb2Url(URL), fake.binding, { poolSize, acquireTimeoutMs, statementTimeoutMs: 1000 });

const LOGIN_INPUT = {
  sessionId: '0b7e1c52-8d1f-4d6c-9a55-3f2f1d0e9a10', sessionHash: 'abcdef0123456789', account: '100000001',
  pinDigest: 'f'.repeat(64), device: 'phone', requestId: 'req-1', clientAddress: '10.1.2.3', now: NOW,
  idleSeconds: 300, absoluteSeconds: 3600, maxFailures: 5, lockSeconds: 900,
};

describe('Db2 driver (stand-in ibm_db binding)', () => {
  describe('connection string', () => {
    it('is built from the URL with schema, TLS and certificate', () => {
      const target = parseDb2Url('db2://app:p%40ss@db2.bank:50001/PROD?schema=api&ssl=true&sslServerCertificate=/etc/db2/ca.arm');
      expect(target.connectionString).to.equal('DATABASE=PROD;HOSTNAME=db2.bank;PORT=50001;PROTOCOL=TCPIP;UID=app;PWD=p@ss;'
        + 'CURRENTSCHEMA=API;SECURITY=SSL;SSLSERVERCERTIFICATE=/etc/db2/ca.arm;');
      expect(target.schema).to.equal('API');
      expect(target.description).not.to.include('p@ss');
    });

    it('refuses values that would inject connection keywords', () => {
      expect(() => parseDb2Url('db2://app:x%3BSECURITY%3DNONE@h:50000/DB')).to.throw(/may not contain/);
      expect(() => parseDb2Url('db2://app:x@h:50000/DB?schema=a;b')).to.throw(/identifier/);
      expect(() => parseDb2Url('db2://app:x@h:50000/')).to.throw(/no database/);
    });
  });

  describe('procedure calls', () => {
    it('binds IN parameters in catalogue order and OUT parameters with their Db2 types', async () => {
      const fake = new FakeIbmDb();
      fake.respond = () => [0, 'C001', 'DEMOBANK1', 'customer', 0];
      const outcome = await login(open(fake), LOGIN_INPUT);
      expect(outcome).to.deep.equal({ status: 'ok', customerId: 'C001', bankId: 'DEMOBANK1', role: 'customer' });
      const [{ sql, params }] = fake.executed;
      expect(sql).to.equal(`CALL BANK.LOGIN(${Array(17).fill('?').join(', ')})`);
      expect(params.slice(0, 3).map((p) => param(p).Data)).to.deep.equal([LOGIN_INPUT.sessionId, LOGIN_INPUT.sessionHash, '100000001']);
      expect(param(params[7])).to.deep.equal({ ParamType: 'INPUT', DataType: 'TIMESTAMP', Data: '2026-11-25-10.00.00.123000' });
      expect(param(params[8])).to.deep.equal({ ParamType: 'INPUT', DataType: 'BIGINT', Data: 300 });
      expect(params.slice(12).map(param)).to.deep.equal([
        { ParamType: 'OUTPUT', DataType: 'INTEGER', Data: 0 },
        { ParamType: 'OUTPUT', DataType: 'VARCHAR', Data: '', Length: 12 },
        { ParamType: 'OUTPUT', DataType: 'VARCHAR', Data: '', Length: 11 },
        { ParamType: 'OUTPUT', DataType: 'VARCHAR', Data: '', Length: 8 },
        { ParamType: 'OUTPUT', DataType: 'INTEGER', Data: 0 },
      ]);
    });

    it('maps status codes and Db2 timestamps of OUT parameters', async () => {
      const fake = new FakeIbmDb();
      fake.respond = () => [2, null, null, null, 417];
      expect(await login(open(fake), LOGIN_INPUT)).to.deep.equal({ status: 'locked', retryAfterSeconds: 417 });
      fake.respond = () => [0, 'C001', '100000001', 'DEMOBANK1', 'customer', null, 'abcdef0123456789',
        '2026-11-25-09.58.00.000000', '2026-11-25-09.59.30.500000', '2026-11-25-10.04.30.500000', '2026-11-25-10.58.00.000000'];
      const resolved = await resolveSession(open(fake), { sessionId: LOGIN_INPUT.sessionId, now: NOW, idleSeconds: 300, touchSeconds: 60, requestId: 'r', clientAddress: '::1' });
      expect(resolved.status).to.equal('alive');
      if (resolved.status !== 'alive') return;
      expect(resolved.session.lastSeenAt.toISOString()).to.equal('2026-11-25T09:59:30.500Z');
      expect(resolved.session.device).to.equal(null);
    });

    it('refuses a status code the catalogue does not define (host and API out of step: 500, not a guess)', async () => {
      const fake = new FakeIbmDb();
      fake.respond = () => [7, null, null, null, 0];
      const error = await login(open(fake), LOGIN_INPUT).catch((e: unknown) => e);
      expect((error as Error).message).to.equal('procedure login answered unknown status 7');
    });

    it('passes money as a decimal string and reads DECIMAL OUT values back as money', async () => {
      const fake = new FakeIbmDb();
      fake.respond = () => [0, 'f1d0c3a2-0000-4000-8000-000000000001', '100000001', '200000001', '12.5', 'EUR', null, '2026-11-25-10.00.00.123000'];
      const outcome = await transfer(open(fake), {
        customerId: 'C001', sessionBankId: 'DEMOBANK1', sessionHash: 'h', device: null, bankId: 'DEMOBANK1',
        idempotencyKey: 'key-12345678', requestDigest: 'd'.repeat(64), transferId: 'f1d0c3a2-0000-4000-8000-000000000001',
        fromAccount: '100000001', toAccount: '200000001', amount: '12.50', reference: null, now: NOW, requestId: 'r', clientAddress: '::1',
      });
      expect(outcome.status).to.equal('booked');
      if (outcome.status === 'booked') expect(outcome.transfer.amount).to.equal('12.50');
      expect(param(fake.executed[0].params[8])).to.deep.equal({ ParamType: 'INPUT', DataType: 'VARCHAR', Data: '12.50' });
      expect(param(fake.executed[0].params[19])).to.deep.equal({ ParamType: 'OUTPUT', DataType: 'DECIMAL', Data: '', Length: 17 });
    });
  });

  describe('statements', () => {
    it('sends the portable text with ? markers and maps upper-case, blank-padded columns', async () => {
      const fake = new FakeIbmDb();
      fake.respond = () => [{ TOTAL: 1, EMPNO: '000010', FIRSTNME: 'CHRISTINE', MIDINIT: 'I', LASTNAME: 'HAAS', WORKDEPT: 'A00',
        PHONENO: '3978', HIREDATE: '1995-01-01', JOB: 'PRES    ', EDLEVEL: 18, SEX: 'F', BIRTHDATE: '1963-08-24',
        SALARY: '152750.00', BONUS: '1000.00', COMM: '4220.00' }];
      const page = await listEmployees(open(fake), { limit: 5, offset: 0, lastNamePrefix: 'ha' });
      expect(page.total).to.equal(1);
      expect(page.items[0]).to.include({ job: 'PRES', lastName: 'HAAS', salary: '152750.00' });
      const [{ sql, params }] = fake.executed;
      expect(sql).to.include('OFFSET ? ROWS FETCH FIRST ? ROWS ONLY').and.not.to.include('$1');
      expect(params.map((p) => param(p).Data)).to.deep.equal([null, null, 'HA%', 'HA%', 0, 5]);
    });
  });

  describe('pooling', () => {
    it('never holds more connections than the pool size, and gives every one back', async () => {
      const fake = new FakeIbmDb();
      fake.respond = async () => { await delay(20); return [{ OK: 1 }]; };
      const host = open(fake, 3, 2000);
      await Promise.all(Array.from({ length: 12 }, () => host.ping()));
      expect(fake.maxPoolSize).to.equal(3);
      expect(fake.maxOpenAtOnce).to.equal(3);
      expect(fake.returned).to.equal(fake.opened);
      expect(fake.openNow).to.equal(0);
    });

    it('fails with HostUnavailable after the acquire timeout when every connection is busy', async () => {
      const fake = new FakeIbmDb();
      fake.respond = async () => { await delay(400); return []; };
      const host = open(fake, 1, 100);
      const busy = host.ping();
      const started = Date.now();
      const error = await host.ping().catch((e: unknown) => e);
      expect(error).to.be.instanceOf(HostUnavailableError);
      expect((error as Error).message).to.match(/pool exhausted/);
      expect(Date.now() - started).to.be.below(350);
      await busy;
    });

    it('fails with HostUnavailable when Db2 does not accept the connection in time', async () => {
      const fake = new FakeIbmDb();
      fake.hangOnOpen = true;
      const error = await open(fake, 2, 80).ping().catch((e: unknown) => e);
      expect(error).to.be.instanceOf(HostUnavailableError);
    });

    it('gives the connection back when the statement fails', async () => {
      const fake = new FakeIbmDb();
      fake.respond = () => { throw db2Error('42601', -104); };
      await open(fake).ping().catch(() => undefined);
      expect(fake.returned).to.equal(1);
    });
  });

  describe('errors', () => {
    const failingWith = async (error: unknown, run: (host: Db2Host) => Promise<unknown>) => {
      const fake = new FakeIbmDb();
      fake.respond = () => { throw error; };
      return run(open(fake)).catch((e: unknown) => e);
    };

    it('maps a unique violation (23505, SQL0803N) to HostConflictError', async () => {
      expect(await failingWith(db2Error('23505', -803), (h) => h.ping())).to.be.instanceOf(HostConflictError);
    });

    it('maps connection loss, deadlock and a missing Db2 Connect licence to HostUnavailableError', async () => {
      for (const [state, code] of [['08001', -30081], ['40001', -911], ['57011', -904], ['42968', -1598]] as const) {
        expect(await failingWith(db2Error(state, code), (h) => h.ping()), `${state} ${code}`).to.be.instanceOf(HostUnavailableError);
      }
    });

    it('maps anything else to a plain HostError (500), keeping the driver message out of HostUnavailable', async () => {
      const error = await failingWith(db2Error('42601', -104), (h) => h.ping());
      expect(error).to.be.instanceOf(HostError);
      expect(error).not.to.be.instanceOf(HostUnavailableError);
    });

    it('discards a stale connection (SQL30081N) and retries a safe call once on a fresh one', async () => {
      const fake = new FakeIbmDb();
      fake.respond = (_sql, _params, connection) => {
        if (connection === 1) throw db2Error('08001', -30081);
        return [0, 'C001', '100000001', 'DEMOBANK1', 'customer', null, 'h', '2026-11-25-09.58.00.000000',
          '2026-11-25-09.58.00.000000', '2026-11-25-10.03.00.000000', '2026-11-25-10.58.00.000000'];
      };
      const resolved = await resolveSession(open(fake), { sessionId: LOGIN_INPUT.sessionId, now: NOW, idleSeconds: 300, touchSeconds: 60, requestId: 'r', clientAddress: '::1' });
      expect(resolved.status).to.equal('alive');
      expect(fake.discarded).to.equal(1);
      expect(fake.executed.map((e) => e.connection)).to.deep.equal([1, 2]);
    });

    it('never retries LOGIN (it counts failures): the stale connection is discarded and the call fails with 503', async () => {
      const fake = new FakeIbmDb();
      fake.respond = () => { throw db2Error('08001', -30081); };
      const error = await login(open(fake), LOGIN_INPUT).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(HostUnavailableError);
      expect(fake.executed).to.have.length(1);
      expect(fake.discarded).to.equal(1);
    });

    it('gives up after one retry', async () => {
      const fake = new FakeIbmDb();
      fake.respond = () => { throw db2Error('08S01', -30081); };
      expect(await open(fake).ping().catch((e: unknown) => e)).to.be.instanceOf(HostUnavailableError);
      expect(fake.executed).to.have.length(2);
    });
  });

  describe('migrations', () => {
    it('applies each file in one unit of work, marker first, with the schema substituted', async () => {
      const fake = new FakeIbmDb();
      fake.respond = (sql) => (sql.startsWith('SELECT VERSION') ? [{ VERSION: '001_schema' }] : []);
      const result = await migrate(open(fake));
      expect(result.applied).to.deep.equal(['002_procedures', '003_transfer', '004_employee']);
      const markers = fake.calls('INSERT INTO BANK.SCHEMA_MIGRATION');
      expect(markers.map((m) => m.params)).to.deep.equal([['002_procedures'], ['003_transfer'], ['004_employee']]);
      expect(fake.calls('CREATE PROCEDURE BANK.LOGIN')).to.have.length(1);
      expect(fake.executed.some((e) => e.sql.includes('${SCHEMA}'))).to.equal(false);
      expect(fake.events.filter((e) => e.startsWith('commit'))).to.have.length(4); // the ledger DDL and three files
    });

    it('skips a version another instance recorded first (23505 on the marker) and rolls back', async () => {
      const fake = new FakeIbmDb();
      fake.respond = (sql) => {
        if (sql.startsWith('INSERT INTO BANK.SCHEMA_MIGRATION')) throw db2Error('23505', -803);
        return sql.startsWith('SELECT VERSION') ? [] : [];
      };
      const result = await migrate(open(fake));
      expect(result.applied).to.deep.equal([]);
      expect(fake.calls('CREATE PROCEDURE')).to.deep.equal([]);
      expect(fake.events.filter((e) => e.startsWith('rollback'))).to.have.length(4);
    });

    it('splits scripts on "@" lines and formats timestamps as Db2 reads them', () => {
      expect(splitScript('-- c\nCREATE TABLE ${SCHEMA}.T (A INT)\n@\nBEGIN SET X = 1; END\n@\n', 'S'))
        .to.deep.equal(['CREATE TABLE S.T (A INT)', 'BEGIN SET X = 1; END']);
      expect(db2Timestamp(new Date('2026-01-02T03:04:05.006Z'))).to.equal('2026-01-02-03.04.05.006000');
    });
  });

  describe('without the ibm_db binding', () => {
    it('stops `npm start` with one line saying what to install, touching nothing else', function () {
      this.timeout(30_000);
      const result = spawnSync(process.execPath, ['--import', 'tsx', 'app/server.ts'], {
        env: { ...process.env, DB_URL: 'db2://u:p@127.0.0.1:1/DB', PORT: '0', NODE_ENV: 'development', LOG_LEVEL: 'silent' },
        encoding: 'utf8', timeout: 25_000,
      });
      if (/ibm_db is not usable/.test(result.stderr) === false && result.status === 0) this.skip(); // a machine with a working ibm_db
      expect(result.status).to.equal(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(/^start-up failed: DB_URL names a Db2 host, but the optional driver ibm_db is not usable here: run `npm install ibm_db`/);
    });
  });
});
