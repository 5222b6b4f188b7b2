// The Db2 driver's contract, run through ibm_db's real JavaScript layer over
// the addon stand-in: CALL text and parameter binding, OUT values as Db2
// assigns them, warnings, statements, error mapping, what every connection
// carries (schema, path, lock timeout, client information) and the timeouts.
// What a real Db2 does with the SQL is not tested here.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { parseDb2Url } from '../../db/db2/connection.js';
import { Db2Host, OUT_TYPES } from '../../db/db2/driver.js';
import { HostConflictError, HostError, HostUnavailableError, type HostValue } from '../../db/host.js';
import { procedures, type ProcedureName } from '../../db/procedures.js';
import { resolveSession } from '../../db/host-sessions.js';
import { statements } from '../../db/statements.js';
import {
  DB2_URL, DEFAULT_TEST_OPTIONS, DIAGNOSTICS, SQL_C, SQL_TYPE, db2Error, diagnostic, openScriptedHost, type Db2Value,
} from '../support/ibm-db/index.js';

const NOW = new Date('2026-11-25T10:00:00.123Z');
const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail('expected a failure'), (error: unknown) => error);

const PROCEDURE_NAMES = Object.keys(procedures).filter((name): name is ProcedureName => name in procedures);

/** Every IN argument of a procedure, NULL unless given. */
function argsFor(procedure: ProcedureName, given: Record<string, HostValue> = {}): Record<string, HostValue> {
  return { ...Object.fromEntries(procedures[procedure].in.map((name) => [name, null])), ...given };
}

describe('Db2 driver (ibm_db\'s lib/odbc.js over the addon stand-in)', () => {
  describe('connection string', () => {
    it('is built from the URL with schema, TLS, certificate and hostname validation', () => {
      const target = parseDb2Url('db2://app:p%40ss@db2.bank:50001/PROD?schema=api&ssl=true&sslServerCertificate=/etc/db2/ca.arm');
      expect(target.connectionString).to.equal('DATABASE=PROD;HOSTNAME=db2.bank;PORT=50001;PROTOCOL=TCPIP;UID=app;PWD=p@ss;'
        + 'CURRENTSCHEMA=API;QueryTimeoutInterval=1;SECURITY=SSL;SSLClientHostnameValidation=Basic;SSLSERVERCERTIFICATE=/etc/db2/ca.arm;');
      expect(target.schema).to.equal('API');
      expect(target.description).not.to.include('p@ss');
      expect(parseDb2Url('db2://app:x@db2.bank/PROD?ssl=true').connectionString).to.include('PORT=50001;');
      expect(parseDb2Url('db2://app:x@db2.bank/PROD').connectionString).to.include('PORT=50000;').and.include('CURRENTSCHEMA=APP;');
    });

    it('refuses values that would inject connection keywords', () => {
      expect(() => parseDb2Url('db2://app:x%3BSECURITY%3DNONE@h:50000/DB')).to.throw(/may not contain/);
      expect(() => parseDb2Url('db2://app:x@h:50000/DB?schema=a;b')).to.throw(/identifier/);
      expect(() => parseDb2Url('db2://app:x@h:50000/')).to.throw(/no database/);
    });

    it('reaches the CLI as built', async () => {
      const { host, db2 } = openScriptedHost();
      await host.ping();
      expect(db2.connectionStrings).to.deep.equal([parseDb2Url('db2://db2inst1:s3cret@db2.example.internal:50000/BANKDB?schema=bank').connectionString]);
    });

    it('gives the login its own timeout (SQL_ATTR_LOGIN_TIMEOUT): connectTimeoutMs in whole seconds, 10 s by default, never the acquire timeout', async () => {
      const given = openScriptedHost({ acquireTimeoutMs: 1000, connectTimeoutMs: 12_300 });
      await given.host.ping();
      const { connectTimeoutMs: _unset, ...withoutIt } = DEFAULT_TEST_OPTIONS;
      const defaulted = openScriptedHost();
      await new Db2Host(parseDb2Url(DB2_URL), { Pool: defaulted.ibmdb.Pool }, { ...withoutIt, acquireTimeoutMs: 1000 }).ping();
      const bounded = openScriptedHost({ connectTimeoutMs: 100 * 24 * 3600 * 1000 });
      await bounded.host.ping();
      // ibm_db would turn 0 into the Pool's 60 and anything above 32767 into 30.
      expect([...given.db2.loginTimeouts, ...defaulted.db2.loginTimeouts, ...bounded.db2.loginTimeouts]).to.deep.equal([13, 10, 32767]);
    });
  });

  describe('procedure calls', () => {
    it('calls the schema-qualified procedure with IN parameters in catalogue order, bound as ibm_db can carry them', async () => {
      const { host, db2 } = openScriptedHost();
      await host.call('logout', argsFor('logout', { session_id: 'sid-1', request_id: 'req-1', now: NOW }));
      const [call] = db2.executed;
      if (!call) throw new Error('no CALL reached Db2');
      expect(call.sql).to.equal(`CALL BANK.LOGOUT(${Array(procedures.logout.in.length + 1).fill('?').join(', ')})`);
      const names = procedures.logout.in;
      expect(call.inputs[names.indexOf('session_id')]).to.equal('sid-1');
      // ibm_db has no TIMESTAMP DataType: the clock goes as Db2's timestamp text, which Db2 casts.
      expect(call.inputs[names.indexOf('now')]).to.equal('2026-11-25-10.00.00.123000');
      expect(call.inputs[names.indexOf('client_address')]).to.equal(null);
      const [status] = call.params.slice(names.length);
      expect(status).to.include({ paramType: 4, sqlType: SQL_TYPE.BIGINT, cType: SQL_C.SBIGINT });
      // With autocommit on, the CALL commits with the procedure's audit row or not at all.
      expect(call.autocommit).to.equal(true);
    });

    it('binds numbers so they reach Db2 intact: 32-bit integers as BIGINT, larger ones and decimals as text, fractions as DOUBLE', async () => {
      const { host, db2 } = openScriptedHost();
      await host.query(statements.ledgerPage, [2 ** 40, 'A1', 'C1', 21]);
      await host.query(statements.ledgerPage, ['9223372036854775807', 'A1', 'C1', 1.5]);
      expect(db2.executed.map((e) => e.inputs)).to.deep.equal([[String(2 ** 40), 'A1', 'C1', 21], ['9223372036854775807', 'A1', 'C1', 1.5]]);
      expect(db2.executed[0]?.params[3]).to.include({ sqlType: SQL_TYPE.BIGINT, cType: SQL_C.SBIGINT });
    });

    it('reads OUT values as Db2 assigns them: integers as numbers, DECIMAL as text with its scale, CHAR blank-padded, TIMESTAMP as a Date', async () => {
      const { host, db2 } = openScriptedHost();
      const booked = new Date('2026-11-25T10:00:00.123Z');
      db2.respond = () => ({
        out: [0, 'f1d0c3a2', '100000001', '200000001', '12.50', 'EUR', null, booked, 0],
        outTypes: ['INTEGER', 'CHAR(36)', 'VARCHAR(20)', 'VARCHAR(20)', 'DECIMAL(15,2)', 'CHAR(3)', 'VARCHAR(140)', 'TIMESTAMP', 'INTEGER'],
      });
      const out = await host.call('transfer', argsFor('transfer'));
      expect(out).to.deep.include({
        status: 0, transfer_id: 'f1d0c3a2'.padEnd(36), from_account: '100000001', amount: '12.50', currency: 'EUR',
        reference: null, booked_at: new Date('2026-11-25T10:00:00.123Z'),
      });
    });

    it('maps a resolved session end to end, from the OUT types SESSION_RESOLVE declares: Db2 timestamp text to the same instants', async () => {
      const { host, db2 } = openScriptedHost();
      const at = (iso: string) => new Date(iso);
      db2.respond = () => ({
        out: [0, 'C001', '100000001', 'DEMOBANK1', 'customer', null, null, 'abcdef0123456789',
          at('2026-11-25T09:58:00.000Z'), at('2026-11-25T09:59:30.500Z'), at('2026-11-25T10:04:30.500Z'), at('2026-11-25T10:58:00.000Z')],
      });
      const resolved = await resolveSession(host, {
        sessionId: 'sid-1', now: NOW, idleSeconds: 300, touchSeconds: 60, requestId: 'req-1', clientAddress: '::1', traceId: null,
      });
      if (resolved.status !== 'alive') throw new Error(`expected alive, got ${resolved.status}`);
      expect(resolved.session).to.deep.include({ customerId: 'C001', role: 'customer', device: null, jkt: null, sessionHash: 'abcdef0123456789' });
      expect(resolved.session.lastSeenAt.toISOString()).to.equal('2026-11-25T09:59:30.500Z');
      expect(resolved.session.absoluteExpiresAt.toISOString()).to.equal('2026-11-25T10:58:00.000Z');
    });

    it('gives every OUT parameter a buffer that holds the longest value its declared type allows (no 01004 truncation)', async () => {
      const { host, db2, warnings } = openScriptedHost();
      for (const name of PROCEDURE_NAMES) {
        const signature = procedures[name];
        const types = signature.out.map((out) => {
          const declared = OUT_TYPES[out];
          if (!declared) throw new Error(`${name}.${out}: no OUT type`);
          if (declared.precision !== undefined) return `${declared.type}(${declared.precision},${declared.scale ?? 0})`;
          return declared.length !== undefined && !['TIMESTAMP', 'DATE'].includes(declared.type) ? `${declared.type}(${declared.length})` : declared.type;
        });
        const longest = types.map((type): Db2Value => {
          const [, base = type, length = '0', scale = '0'] = /^(\w+)(?:\((\d+)(?:,(\d+))?\))?$/.exec(type) ?? [];
          if (base === 'TIMESTAMP') return new Date('2026-12-31T23:59:59.999Z');
          if (base === 'DATE') return '2026-12-31';
          if (base === 'DECIMAL') return `${'9'.repeat(Number(length) - Number(scale))}.${'9'.repeat(Number(scale))}`;
          if (['INTEGER', 'SMALLINT', 'BIGINT'].includes(base)) return 2147483647;
          return 'X'.repeat(Number(length));
        });
        db2.respond = () => ({ out: longest, outTypes: types });
        const out = await host.call(name, argsFor(name));
        signature.out.forEach((field, i) => {
          const sent = longest[i];
          // Db2 sends a TIMESTAMP as its text; the driver answers the same instant as a Date.
          expect(out[field], `${name}.${field}`).to.deep.equal(sent);
        });
      }
      expect(warnings).to.deep.equal([]);
    });

    it('takes a CALL that Db2 completed with a warning (SQL_SUCCESS_WITH_INFO) as done, with its OUT values, and tells the warning once', async () => {
      const { host, db2, warnings } = openScriptedHost();
      db2.respond = () => ({ out: [0], warning: diagnostic('01H01', 462, 'Routine "LOGOUT" returned a warning') });
      const out = await host.call('logout', argsFor('logout'));
      expect(out).to.deep.equal({ status: 0 });
      expect(warnings).to.have.length(1);
      expect(warnings[0]).to.include({ operation: 'logout', sqlstate: '01H01', sqlcode: 462 });
    });

    it('takes an OUT value the CLI had to truncate (01004) as done too, and says so', async () => {
      const { host, db2, warnings } = openScriptedHost();
      db2.respond = () => ({ out: [0, 'C'.repeat(13), 'DEMOBANK1', 'customer', 0], outTypes: ['INTEGER', 'VARCHAR(20)', 'VARCHAR(11)', 'VARCHAR(8)', 'INTEGER'] });
      const out = await host.call('login', argsFor('login'));
      expect(out.customer_id).to.equal('C'.repeat(12));
      expect(warnings.map((w) => w.sqlstate)).to.deep.equal(['01004']);
    });

    it('fails a CALL that ended with SQL_NO_DATA (SQLCODE +100, no OUT values from ibm_db) with a HostError naming the procedure, never NULLs', async () => {
      const { host, db2, warnings } = openScriptedHost();
      db2.respond = () => ({ noData: true });
      const error = await failure(host.call('purge_expired', argsFor('purge_expired', { now: NOW })));
      expect(error).to.be.instanceOf(HostError).and.not.be.instanceOf(HostUnavailableError);
      expect(error).to.include({ sqlState: '02000' }).with.property('message').that.matches(/^Db2 procedure BANK\.PURGE_EXPIRED returned no OUT values: .*SQLCODE \+100/);
      expect(db2.executed).to.have.length(1);
      expect(db2.openStatements).to.equal(0);
      expect(warnings).to.deep.equal([]);
      // A statement with no OUT values to give is not affected: a searched UPDATE that touched no row is done.
      expect(await host.query(statements.scratchpadPut, ['{}', 'sid-gone'])).to.deep.equal([]);
    });
  });

  describe('statements', () => {
    it('sends the portable text with ? markers and maps upper-case columns as the CLI fetches them', async () => {
      const { host, db2 } = openScriptedHost();
      db2.respond = () => ({
        columns: [
          { name: 'SESSION_HASH', type: 'CHAR(16)' }, { name: 'CUSTOMER_ID', type: 'VARCHAR(12)' }, { name: 'CREATED_AT', type: 'TIMESTAMP' },
          { name: 'AUDIT_ID', type: 'BIGINT' }, { name: 'BALANCE', type: 'DECIMAL(15,2)' }, { name: 'EDLEVEL', type: 'SMALLINT' }, { name: 'HIREDATE', type: 'DATE' },
        ],
        rows: [['abc', 'C001', NOW, '9007199254740993', '1250.50', 18, '1995-01-01']],
      });
      const rows = await host.query(statements.sessionRead, ['sid-1']);
      expect(db2.executed[0]?.sql).to.equal(statements.sessionRead.sql);
      expect(rows).to.deep.equal([{
        session_hash: 'abc'.padEnd(16), customer_id: 'C001', created_at: new Date('2026-11-25T10:00:00.123Z'),
        audit_id: '9007199254740993', balance: 1250.5, edlevel: 18, hiredate: '1995-01-01',
      }]);
    });

    it('frees every statement handle it allocates, after answers and after failures', async () => {
      const { host, db2 } = openScriptedHost();
      db2.respond = (s) => {
        if (s.sql.includes('employee')) throw db2Error('42601', -104, 'An unexpected token');
        return { columns: [{ name: 'OK', type: 'INTEGER' }], rows: [[1]] };
      };
      await host.ping();
      await failure(host.query(statements.employeeGet, ['000010']));
      await host.call('logout', argsFor('logout'));
      expect(db2.openStatements).to.equal(0);
    });
  });

  describe('errors (the SQLSTATE read from `sqlstate`)', () => {
    const failingWith = async (state: string, code: number) => {
      const { host, db2 } = openScriptedHost();
      db2.respond = () => {
        throw db2Error(state, code);
      };
      return failure(host.call('login', argsFor('login')));
    };

    it('maps a unique violation (23505, SQL0803N) to HostConflictError', async () => {
      const error = await failingWith('23505', -803);
      expect(error).to.be.instanceOf(HostConflictError);
      expect(error).to.include({ sqlState: '23505' });
    });

    it('maps connection loss, a reroute, a cancel, deadlock and lock timeouts and a missing Db2 Connect licence to HostUnavailableError', async () => {
      const cases = [['08001', -30081], ['08506', -30108], ['57011', -904], ['57014', -952], ['40001', -911], ['57033', -913], ['42968', -1598]] as const;
      for (const [state, code] of cases) {
        const error = await failingWith(state, code);
        expect(error, `${state} ${code}`).to.be.instanceOf(HostUnavailableError);
        expect(error, `${state} ${code}`).to.include({ sqlState: state });
      }
    });

    it('maps anything else to a plain HostError (500)', async () => {
      for (const [state, code] of [['42601', -104], ['22001', -302], ['42884', -440]] as const) {
        const error = await failingWith(state, code);
        expect(error, state).to.be.instanceOf(HostError);
        expect(error, state).not.to.be.instanceOf(HostUnavailableError);
        expect(error, state).not.to.be.instanceOf(HostConflictError);
      }
    });
  });

  describe('what every connection carries', () => {
    it('works in the target schema, with it on the path, before its first statement', async () => {
      const { host, db2 } = openScriptedHost();
      await host.ping();
      expect(db2.executed[0]?.registers).to.deep.equal({
        schema: 'BANK', path: '"SYSIBM","SYSFUN","SYSPROC","SYSIBMADM","BANK"', lockTimeout: 5,
      });
    });

    it('runs scripts as written (no placeholder), statement by statement on "@" lines, in the target schema', async () => {
      const { host, db2 } = openScriptedHost();
      await host.runScript('-- a comment\nCREATE TABLE T (A INT)\n@\nBEGIN\n  CALL AUDIT_WRITE(1);\nEND\n@\n');
      expect(db2.executed.map((e) => e.sql)).to.deep.equal(['CREATE TABLE T (A INT)', 'BEGIN\n  CALL AUDIT_WRITE(1);\nEND']);
      expect(db2.executed.every((e) => e.registers.schema === 'BANK' && e.registers.path.endsWith('"BANK"') && !e.autocommit)).to.equal(true);
      expect(db2.events.filter((e) => /^(begin|commit|rollback)/.test(e))).to.deep.equal(['begin 1', 'commit 1']);
    });

    it('shows Db2 operators who each call is for: application, customer, client address, request and trace', async () => {
      const { host, db2 } = openScriptedHost({ poolSize: 1 });
      await host.call('logout', argsFor('logout'), { requestId: 'req-1', customerId: 'C001', clientAddress: '10.1.2.3', traceId: '4bf92f3577b34da6a3ce929d0e0e4736' });
      await host.call('logout', argsFor('logout'), { requestId: 'req-2', clientAddress: '2001:db8::1' });
      await host.ping();
      await host.call('logout', argsFor('logout'), { requestId: 'r', customerId: 'C'.repeat(300) });
      expect(db2.executed.map((e) => e.clientInfo)).to.deep.equal([
        { application: 'host-session-api', user: 'C001', workstation: '10.1.2.3', accounting: 'request=req-1 trace=4bf92f3577b34da6a3ce929d0e0e4736' },
        { application: 'host-session-api', user: ' ', workstation: '2001:db8::1', accounting: 'request=req-2' },
        { application: 'host-session-api', user: ' ', workstation: ' ', accounting: ' ' },
        { application: 'host-session-api', user: 'C'.repeat(128), workstation: ' ', accounting: 'request=r' },
      ]);
    });

    it('clears client information with a blank, never the empty string ibm_db would pass as a NULL pointer (HY009)', async () => {
      const { host, db2 } = openScriptedHost({ poolSize: 1 });
      // A fresh connection carries nothing to clear: no attribute is set for a call without a context.
      await host.ping();
      await host.call('logout', argsFor('logout'), { requestId: 'req-1', customerId: 'null', clientAddress: '10.1.2.3' });
      // The health ping and the purge timer come without a context, on the connection the request used.
      await host.ping();
      await host.call('purge_expired', argsFor('purge_expired', { now: NOW }));
      expect(db2.executed.map((e) => e.clientInfo.user)).to.deep.equal(['', 'null ', ' ', ' ']);
      expect(db2.executed.slice(2).map((e) => e.clientInfo)).to.deep.equal(Array(2).fill({ application: 'host-session-api', user: ' ', workstation: ' ', accounting: ' ' }));
    });
  });

  describe('timeouts (Db2 counts seconds; here a Db2 second lasts 20 ms)', () => {
    const timed = async (run: () => Promise<unknown>) => {
      const started = Date.now();
      const error = await failure(run());
      return { error, elapsed: Date.now() - started };
    };

    it('ends a CALL blocked on a row lock with HostUnavailableError once CURRENT LOCK TIMEOUT has passed', async () => {
      const { host, db2 } = openScriptedHost({ lockTimeoutMs: 3000, statementTimeoutMs: 60_000 });
      db2.secondMs = 20;
      db2.respond = () => ({ lockWait: true });
      const { error, elapsed } = await timed(() => host.call('logout', argsFor('logout')));
      expect(error).to.be.instanceOf(HostUnavailableError);
      expect(error).to.include({ sqlState: '40001' });
      expect(db2.executed[0]?.registers.lockTimeout).to.equal(3);
      expect(elapsed).to.be.at.least(55).and.below(2000);
    });

    it('has the CLI cancel a statement that outlives statementTimeoutMs (SQL_ATTR_QUERY_TIMEOUT): HostUnavailableError, not retried', async () => {
      const { host, db2 } = openScriptedHost({ statementTimeoutMs: 2000 });
      db2.secondMs = 20;
      db2.respond = () => new Promise(() => undefined);
      const { error, elapsed } = await timed(() => host.query(statements.sessionRead, ['sid-1']));
      expect(error).to.be.instanceOf(HostUnavailableError);
      expect(error).to.include({ sqlState: '57014' });
      expect(db2.executed.map((e) => e.queryTimeout)).to.deep.equal([2]);
      expect(elapsed).to.be.at.least(35).and.below(2000);
    });

    it('cancels within one second of the statement timeout however db2cli.ini sets QueryTimeoutInterval: the connection string pins 1 s', async () => {
      const { host, db2 } = openScriptedHost({ statementTimeoutMs: 2000 });
      db2.secondMs = 20;
      db2.cliIni = { queryTimeoutInterval: 10 };
      db2.respond = () => new Promise(() => undefined);
      const timings = [];
      for (let i = 0; i < 3; i += 1) timings.push(await timed(() => host.query(statements.sessionRead, ['sid-1'])));
      for (const { error, elapsed } of timings) {
        expect(error).to.be.instanceOf(HostUnavailableError).and.include({ sqlState: '57014' });
        // Between N and N + 1 of Db2's seconds (40 to 60 ms here), not the N + 10 the ini file would allow.
        expect(elapsed).to.be.at.least(35).and.below(140);
      }
      expect(db2.executed.map((e) => e.cli.queryTimeoutInterval)).to.deep.equal([1, 1, 1]);
    });

    it('rounds both timeouts up to whole seconds', async () => {
      const { host, db2 } = openScriptedHost({ statementTimeoutMs: 2500, lockTimeoutMs: 1500 });
      await host.ping();
      expect(db2.executed[0]).to.deep.include({ queryTimeout: 3 });
      expect(db2.executed[0]?.registers.lockTimeout).to.equal(2);
    });

    it('on a host without CURRENT LOCK TIMEOUT (Db2 12 for z/OS), bounds a lock wait by the statement timeout and says so once', async () => {
      const { host, db2, warnings } = openScriptedHost({ statementTimeoutMs: 2000 });
      db2.secondMs = 20;
      db2.lockTimeoutRegister = false;
      db2.respond = () => ({ lockWait: true });
      const errors = await Promise.all([1, 2, 3].map(() => failure(host.call('logout', argsFor('logout')))));
      for (const error of errors) expect(error).to.be.instanceOf(HostUnavailableError).and.include({ sqlState: '57014' });
      expect(db2.maxOpenConnections).to.equal(3);
      expect(warnings.map((w) => `${w.operation} ${w.sqlstate}`)).to.deep.equal(['SET CURRENT LOCK TIMEOUT 42601']);
    });
  });

  describe('without the ibm_db binding', () => {
    it('stops `npm start` with one line saying what to install, touching nothing else', function () {
      this.timeout(30_000);
      // Absent on every machine alike: the fixture makes `import('ibm_db')` fail as where it is not installed.
      const result = spawnSync(process.execPath, ['--import', 'tsx', '--import', './test/fixtures/without-ibm-db.mjs', 'app/server.ts'], {
        env: { ...process.env, DB_URL: 'db2://u:p@127.0.0.1:1/DB', PORT: '0', NODE_ENV: 'development', LOG_LEVEL: 'silent' },
        encoding: 'utf8', timeout: 25_000,
      });
      expect(result.status).to.equal(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(/^start-up failed: DB_URL names a Db2 host, but the optional driver ibm_db is not usable here: run `npm install ibm_db`/);
    });
  });

  it('knows the lost-connection diagnostics the CLI gives', () => {
    expect(DIAGNOSTICS.communication.message).to.include('SQL30081N');
  });
});
