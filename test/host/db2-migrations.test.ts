// Db2 migrations through ibm_db's real JavaScript layer over the addon
// stand-in: the ledger read without DDL, created once, each version applied
// in one unit of work marker first, and only a conflict on the marker itself
// meaning "another instance applied it". A scripted ledger table plays Db2's.
import { expect } from 'chai';
import { splitScript } from '../../db/db2/driver.js';
import { HostConflictError, HostError } from '../../db/host.js';
import { loadMigrations, migrate } from '../../db/migrate.js';
import { db2Error, gate, openScriptedHost, type Executed, type Reply, type ScriptedDb2 } from '../support/ibm-db/index.js';

const LEDGER = '"BANK".SCHEMA_MIGRATION';
const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail('expected a failure'), (error: unknown) => error);

/** SCHEMA_MIGRATION as Db2 keeps it: created by DDL at once, rows visible once their unit of work commits. */
function scriptedLedger(db2: ScriptedDb2, recorded: string[] = [], exists = recorded.length > 0) {
  const committed = new Set(recorded);
  const pending = new Map<number, string[]>();
  const table = { exists, committed };
  db2.onTransactionEnd = (connection, commit) => {
    if (commit) for (const version of pending.get(connection) ?? []) committed.add(version);
    pending.delete(connection);
  };
  const answer = (s: Executed): Reply | undefined => {
    if (s.sql.startsWith(`CREATE TABLE ${LEDGER}`)) {
      if (table.exists) throw db2Error('42710', -601, `The name of the object to be created is identical to the existing name "${LEDGER}" of type "TABLE"`);
      table.exists = true;
      return undefined;
    }
    if (!s.sql.includes(LEDGER)) return undefined;
    if (!table.exists) throw db2Error('42704', -204, `"${LEDGER}" is an undefined name`);
    if (s.sql.startsWith('SELECT VERSION')) return { columns: [{ name: 'VERSION', type: 'VARCHAR(100)' }], rows: [...committed].map((v) => [v]) };
    const version = String(s.inputs[0]);
    const taken = committed.has(version) || [...pending.entries()].some(([c, versions]) => c !== s.connection && versions.includes(version));
    if (taken) throw db2Error('23505', -803, `One or more values in the INSERT statement are not valid because the primary key constrains table "${LEDGER}"`);
    pending.set(s.connection, [...(pending.get(s.connection) ?? []), version]);
    return undefined;
  };
  return { table, answer };
}

describe('Db2 migrations (ibm_db\'s lib/odbc.js over the addon stand-in)', () => {
  it('reads the ledger without DDL: no ledger yet (SQL0204N) is an empty set', async () => {
    const { host, db2 } = openScriptedHost();
    db2.respond = scriptedLedger(db2).answer;
    expect(await host.appliedMigrations()).to.deep.equal(new Set());
    expect(db2.executed.map((e) => e.sql)).to.deep.equal([`SELECT VERSION FROM ${LEDGER}`]);
  });

  it('creates the ledger when asked; a second time, Db2\'s 42710 (SQL0601N) means it exists', async () => {
    const { host, db2 } = openScriptedHost();
    const ledger = scriptedLedger(db2);
    db2.respond = ledger.answer;
    await host.prepareMigrations();
    await host.prepareMigrations();
    expect(ledger.table.exists).to.equal(true);
    expect(db2.statements('CREATE TABLE')).to.have.length(2);
  });

  it('run twice: the first run applies every file in its own unit of work, marker first; the second applies nothing', async () => {
    const { host, db2 } = openScriptedHost();
    const ledger = scriptedLedger(db2);
    db2.respond = ledger.answer;
    const versions = (await loadMigrations('db2')).map((m) => m.version);
    expect(await migrate(host)).to.deep.equal({ applied: versions, seeded: false });
    const markers = db2.statements(`INSERT INTO ${LEDGER}`);
    expect(markers.map((m) => m.inputs)).to.deep.equal(versions.map((v) => [v]));
    for (const [i, marker] of markers.entries()) {
      const next = markers[i + 1];
      const unit = db2.executed.slice(db2.executed.indexOf(marker), next ? db2.executed.indexOf(next) : undefined);
      expect(unit.length, versions[i]).to.be.greaterThan(1);
      expect(unit.every((s) => !s.autocommit), versions[i]).to.equal(true);
    }
    expect(db2.events.filter((e) => e.startsWith('commit'))).to.have.length(versions.length);

    const before = db2.executed.length;
    expect(await migrate(host)).to.deep.equal({ applied: [], seeded: false });
    expect(db2.executed.slice(before).map((s) => s.sql)).to.deep.equal([
      `CREATE TABLE ${LEDGER} (VERSION VARCHAR(100) NOT NULL PRIMARY KEY, APPLIED_AT TIMESTAMP NOT NULL DEFAULT CURRENT TIMESTAMP)`,
      `SELECT VERSION FROM ${LEDGER}`,
    ]);
  });

  it('skips a version another instance recorded first (23505 on the marker), rolling its unit of work back', async () => {
    const { host, db2 } = openScriptedHost();
    db2.respond = scriptedLedger(db2, ['v1']).answer;
    expect(await host.applyMigration('v1', 'CREATE TABLE X (A INT)\n@\n')).to.equal(false);
    expect(db2.statements('CREATE TABLE X')).to.deep.equal([]);
    expect(db2.events.filter((e) => /^(commit|rollback)/.test(e))).to.deep.equal(['rollback 1']);
  });

  it('takes a unique violation inside a script as the error it is, not as "applied by another instance"', async () => {
    const { host, db2 } = openScriptedHost();
    const ledger = scriptedLedger(db2, [], true);
    db2.respond = (s) => {
      if (s.sql.startsWith('INSERT INTO ACCOUNT')) throw db2Error('23505', -803, 'One or more values in the INSERT statement are not valid');
      return ledger.answer(s);
    };
    const error = await failure(host.applyMigration('v2', 'CREATE TABLE ACCOUNT (A INT)\n@\nINSERT INTO ACCOUNT VALUES (1)\n@\n'));
    expect(error).to.be.instanceOf(HostConflictError);
    expect(ledger.table.committed.has('v2')).to.equal(false);
    expect(db2.events.filter((e) => /^(commit|rollback)/.test(e))).to.deep.equal(['rollback 1']);
  });

  it('keeps the SAMPLE database\'s own objects (42710 on a CREATE in a *_sample script), and fails on any other object that exists', async () => {
    const { host, db2 } = openScriptedHost();
    const ledger = scriptedLedger(db2, [], true);
    db2.respond = (s) => {
      if (/^CREATE (TABLE|INDEX) (DEPARTMENT|EMPLOYEE|XEMP2|CUSTOMER)/.test(s.sql)) throw db2Error('42710', -601, 'The name of the object to be created is identical to an existing name');
      return ledger.answer(s);
    };
    expect(await host.applyMigration('001_sample', 'CREATE TABLE DEPARTMENT (DEPTNO CHAR(3))\n@\nCREATE TABLE EMPLOYEE (EMPNO CHAR(6))\n@\nCREATE INDEX XEMP2 ON EMPLOYEE (EMPNO)\n@\n')).to.equal(true);
    const error = await failure(host.applyMigration('002_schema', 'CREATE TABLE CUSTOMER (ID INT)\n@\n'));
    expect(error).to.be.instanceOf(HostError).and.include({ sqlState: '42710' });
    const sampleElsewhere = await failure(host.applyMigration('003_other', 'CREATE TABLE EMPLOYEE (EMPNO CHAR(6))\n@\n'));
    expect(sampleElsewhere, 'outside a *_sample script an existing EMPLOYEE is an error').to.be.instanceOf(HostError);
    expect([...ledger.table.committed]).to.deep.equal(['001_sample']);
  });

  it('applies a migration a failover interrupted once, on the rerouted connection, in the target schema', async () => {
    const { host, db2 } = openScriptedHost({ poolSize: 1 });
    const ledger = scriptedLedger(db2, [], true);
    const warmed = gate();
    db2.respond = ledger.answer;
    void host.ping().then(warmed.open);
    await warmed.wait();
    db2.failover();
    expect(await host.applyMigration('v5', 'CREATE TABLE T5 (A INT)\n@\n')).to.equal(true);
    const [create, ...again] = db2.statements('CREATE TABLE T5');
    expect(again).to.deep.equal([]);
    expect(create).to.deep.include({ member: 'db2-b', autocommit: false });
    expect(create?.registers.schema).to.equal('BANK');
    expect([...ledger.table.committed]).to.deep.equal(['v5']);
    expect(db2.events.filter((e) => /^(commit|rollback|rerouted)/.test(e))).to.deep.equal(['rerouted 1 to db2-b', 'rollback 1', 'commit 1']);
  });

  it('applies a migration whose connection was lost mid-script once more, on a fresh connection, the lost one discarded', async () => {
    const { host, db2 } = openScriptedHost({ poolSize: 1 });
    const ledger = scriptedLedger(db2, [], true);
    let lost = false;
    db2.respond = (s) => {
      if (s.sql.startsWith('CREATE TABLE T6') && !lost) {
        lost = true;
        throw db2Error('08001', -30081, 'A communication error has been detected');
      }
      return ledger.answer(s);
    };
    expect(await host.applyMigration('v6', 'CREATE TABLE T6 (A INT)\n@\n')).to.equal(true);
    expect(db2.statements('CREATE TABLE T6').map((s) => s.connection)).to.deep.equal([1, 2]);
    expect([...ledger.table.committed]).to.deep.equal(['v6']);
    expect(db2.connectedHandles).to.equal(1);
    expect(host.stats().pool).to.include({ inUse: 0, open: 1 });
  });

  it('splits scripts on lines holding only "@", drops comment lines, and substitutes nothing', () => {
    expect(splitScript('-- c\nCREATE TABLE T (A INT)\n@\nBEGIN SET X = 1; END\n  @  \n\n')).to.deep.equal(['CREATE TABLE T (A INT)', 'BEGIN SET X = 1; END']);
    expect(splitScript('CREATE TABLE ${SCHEMA}.T (A INT)\n@\n')).to.deep.equal(['CREATE TABLE ${SCHEMA}.T (A INT)']);
    // deploy.sh --in fills the placement marker; through ibm_db it goes, and no bracketed comment reaches Db2.
    expect(splitScript('CREATE TABLE T (A INT) /* @IN */\n@\n')).to.deep.equal(['CREATE TABLE T (A INT)']);
  });
});
