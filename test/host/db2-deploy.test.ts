// db/db2/deploy.sh, the real script under bash, against the CLP stand-in
// (test/support/db2-clp: the CLP as IBM documents it, its connection keyed on
// the caller's parent process id). Each test has its own database and its own
// copy of db/db2, with the placement marker after every CREATE TABLE's column
// list. Then the stand-in itself, where its faithfulness decides what these
// tests prove: it must catch the deploy.sh of issue 22.
import { expect } from 'chai';
import { copyFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { copyScripts, type Database, Standin, withPlacementMarkers } from '../support/db2-clp/standin.js';

const versions = readdirSync('db/db2/migrations').filter((f) => f.endsWith('.sql')).sort().map((f) => f.replace(/\.sql$/, ''));
const migrationText = versions.map((v) => readFileSync(`db/db2/migrations/${v}.sql`, 'utf8')).join('\n');
const namesCreated = (pattern: RegExp) => [...migrationText.matchAll(pattern)].map(([, name]) => name!);
const tables = [...namesCreated(/^CREATE TABLE (\w+)/gm), 'SCHEMA_MIGRATION'].sort();
const routines = namesCreated(/^CREATE (?:PROCEDURE|FUNCTION) (\w+)/gm).sort();
const grantLines = [...readFileSync('db/db2/grants.sql', 'utf8').matchAll(/^GRANT (.+) ON (TABLE|PROCEDURE) (\w+) TO ROLE HOST_API_APP$/gm)];
/** grants.sql's grants as the stand-in records them, to `grantee` ("ROLE HOST_API_APP", "USER APIUSER", ...). */
const grantsTo = (grantee: string, schema = 'BANKAPI') =>
  grantLines.map(([, privilege, type, object]) => `${privilege} ON ${type} ${schema}.${object} TO ${grantee}`);
const grantsOf = (db: Database) => db.grants.map((g) => `${g.privilege} ON ${g.objectType} ${g.object} TO ${g.granteeType} ${g.grantee}`);
/** The files the CLP was given with -f, by name, from the index-th call on. */
const filesRun = (standin: Standin, from = 0) => standin.calls().slice(from).filter((c) => c.args.includes('-f')).map((c) => basename(c.args.at(-1)!));

describe('db/db2/deploy.sh (bash, against the CLP stand-in)', function () {
  this.timeout(120_000);
  let standin: Standin;
  let scripts: string;
  const deploy = (args: string[], input = '', env: Record<string, string> = {}) => standin.bash([join(scripts, 'deploy.sh'), ...args], input, env);
  const start = (database: Partial<Database> = {}) => {
    standin = new Standin(database);
    scripts = copyScripts(standin.dir);
  };
  afterEach(() => standin.cleanup());

  it('applies every migration once on an empty database, then the grants; run again it changes nothing and exits 0', async () => {
    start();
    const first = await deploy(['BANKDB', 'bankApi']);
    expect(first.code, first.output).to.equal(0);
    const db = standin.database();
    const schema = db.schemas.BANKAPI!;
    expect(Object.keys(db.schemas), 'the schema, folded to upper case').to.deep.equal(['BANKAPI']);
    expect(Object.keys(schema.tables).sort()).to.deep.equal(tables);
    expect(Object.keys(schema.routines).sort()).to.deep.equal(routines);
    expect(schema.tables.SCHEMA_MIGRATION!.rows.map((row) => row.VERSION)).to.deep.equal(versions);
    expect(new Set(Object.values(schema.tables).map((t) => t.placement)), 'no --in: Db2 places them').to.deep.equal(new Set([null]));
    expect(db.roles, 'created on LUW when missing').to.deep.equal(['HOST_API_APP']);
    expect(grantsOf(db)).to.deep.equal(grantsTo('ROLE HOST_API_APP'));
    expect(filesRun(standin)).to.deep.equal(['ledger.sql', ...versions.map((v) => `${v}.sql`), 'grants.sql']);
    for (const v of versions) expect(first.stdout).to.include(`${v}: applied\n`);
    expect(first.stdout).to.include('role HOST_API_APP: created; grant it to the service\'s user');
    expect(standin.openConnections(), 'connection reset and back end terminated').to.deep.equal([]);

    const callsBefore = standin.calls().length;
    const second = await deploy(['BANKDB', 'BANKAPI']);
    expect(second.code, second.output).to.equal(0);
    for (const v of versions) expect(second.stdout).to.include(`${v}: applied already`);
    expect(second.stdout).to.include('ledger BANKAPI.SCHEMA_MIGRATION: present');
    expect(filesRun(standin, callsBefore), 'only the grants, again').to.deep.equal(['grants.sql']);
    expect(standin.database()).to.deep.equal(db);
  });

  it('applies a migration added later, and only it', async () => {
    start();
    expect((await deploy(['BANKDB', 'BANKAPI'])).code).to.equal(0);
    writeFileSync(join(scripts, 'migrations/006_later.sql'), withPlacementMarkers(
      '-- Added after the first deploy.\nCREATE TABLE LATER_NOTE (\n  NOTE_ID INTEGER NOT NULL PRIMARY KEY,\n'
      + '  ACCOUNT_ID VARCHAR(20) NOT NULL REFERENCES ACCOUNT (ACCOUNT_ID)\n)\n@\n'
      + 'CREATE INDEX LATER_NOTE_ACCOUNT ON LATER_NOTE (ACCOUNT_ID)\n@\n'));
    const callsBefore = standin.calls().length;
    const later = await deploy(['BANKDB', 'BANKAPI']);
    expect(later.code, later.output).to.equal(0);
    expect(later.stdout).to.include('006_later: applied\n');
    for (const v of versions) expect(later.stdout).to.include(`${v}: applied already`);
    expect(filesRun(standin, callsBefore)).to.deep.equal(['006_later.sql', 'grants.sql']);
    const schema = standin.database().schemas.BANKAPI!;
    expect(schema.tables.SCHEMA_MIGRATION!.rows.map((row) => row.VERSION)).to.deep.equal([...versions, '006_later']);
    expect(schema.indexes).to.have.property('LATER_NOTE_ACCOUNT');
  });

  it('refuses, before calling the CLP, a schema that is not an ordinary identifier, and bad options', async () => {
    start();
    for (const args of [
      ['BANKDB', 'bank-api'], ['BANKDB', '1BANK'], ['BANKDB', '"Bank"'], ['BANKDB', 'SYSTOOLS'],
      ['--grantee', 'ROLE:app-role', 'BANKDB', 'BANKAPI'], ['--grantee', 'OWNER:X', 'BANKDB', 'BANKAPI'],
      ['--in', 'BANKDB1.TS1', 'BANKDB', 'BANKAPI'], ['BANKDB'], ['--force', 'BANKDB', 'BANKAPI'],
    ]) {
      const refused = await deploy(args);
      expect(refused.code, args.join(' ')).to.equal(2);
      expect(refused.stderr, args.join(' ')).to.match(/^deploy\.sh: .+\n\nusage: deploy\.sh/);
    }
    expect((await deploy(['BANKDB', 'bank-api'])).stderr).to.include('SCHEMA "bank-api" is not an ordinary identifier: use a letter, then letters, digits or _');
    expect((await deploy(['--in', 'BANKDB1.TS1', 'BANKDB', 'BANKAPI'])).stderr).to.include('SQL0646N');
    expect(standin.calls()).to.deep.equal([]);
  });

  it('shows the CLP\'s password prompt and connects with the answer; a wrong one stops, saying what to check', async () => {
    start();
    const wrong = await deploy(['BANKDB', 'BANKAPI', 'dbauser'], 'not-it\n');
    expect(wrong.code).to.equal(1);
    expect(wrong.stdout).to.include('Enter current password for dbauser:');
    expect(wrong.stdout).to.include('SQL30082N');
    expect(wrong.stderr).to.include('could not connect to BANKDB as dbauser (CLP exit code 4; the message above says why). Check the alias');
    expect(standin.database().schemas).to.deep.equal({});

    const right = await deploy(['BANKDB', 'BANKAPI', 'dbauser'], 'secret\n');
    expect(right.code, right.output).to.equal(0);
    expect(right.stdout.indexOf('Enter current password for dbauser:')).to.be.within(0, right.stdout.indexOf('Database Connection Information'));
    expect(new Set(standin.database().grants.map((g) => g.grantor))).to.deep.equal(new Set(['DBAUSER']));
  });

  it('grants to a user: TO USER on LUW (no role created), the bare authorization ID on z/OS', async () => {
    start();
    const luw = await deploy(['--grantee', 'user:apiuser', 'BANKDB', 'BANKAPI']);
    expect(luw.code, luw.output).to.equal(0);
    expect(grantsOf(standin.database())).to.deep.equal(grantsTo('USER APIUSER'));
    expect(standin.database().roles).to.deep.equal([]);
    standin.cleanup();

    start({ platform: 'zos' });
    const zos = await deploy(['--grantee', 'USER:APIUSER', 'BANKDB', 'BANKAPI']);
    expect(zos.code, zos.output).to.equal(0);
    expect(zos.stdout).to.include('BANKDB is Db2 for z/OS');
    expect(grantsOf(standin.database()), 'z/OS\'s GRANT has no USER keyword (SQL0104N)').to.deep.equal(grantsTo('AUTHID APIUSER'));
  });

  it('keeps an existing role on LUW, whatever DB2OPTIONS says; refuses GROUP on z/OS', async () => {
    start({ roles: ['HOST_API_APP'] });
    // With +c from DB2OPTIONS the grants would stay uncommitted and be rolled back at the end.
    const kept = await deploy(['BANKDB', 'BANKAPI'], '', { DB2OPTIONS: '+c' });
    expect(kept.code, kept.output).to.equal(0);
    expect(kept.stdout).not.to.include('role HOST_API_APP: created');
    expect(standin.calls().some((c) => c.args.join(' ').includes('CREATE ROLE'))).to.equal(false);
    expect(grantsOf(standin.database())).to.deep.equal(grantsTo('ROLE HOST_API_APP'));
    standin.cleanup();

    start({ platform: 'zos' });
    const group = await deploy(['--grantee', 'GROUP:APIGRP', 'BANKDB', 'BANKAPI']);
    expect(group.code).to.equal(1);
    expect(group.stderr).to.include('for a RACF group use --grantee USER:APIGRP');
    expect(standin.database().schemas).to.deep.equal({});
  });

  it('on z/OS refuses a role that does not exist, changing nothing; grants to one that does, and again with +562 warnings', async () => {
    start({ platform: 'zos' });
    const before = standin.database();
    const missing = await deploy(['BANKDB', 'BANKAPI']);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.include('role HOST_API_APP does not exist on this Db2 for z/OS. A role is effective there only inside a trusted context');
    expect(missing.stderr).to.include('--grantee USER:<authid>');
    expect(standin.database()).to.deep.equal(before);
    standin.cleanup();

    start({ platform: 'zos', roles: ['HOST_API_APP'] });
    const first = await deploy(['BANKDB', 'BANKAPI']);
    expect(first.code, first.output).to.equal(0);
    expect(grantsOf(standin.database())).to.deep.equal(grantsTo('ROLE HOST_API_APP'));
    const db = standin.database();
    const again = await deploy(['BANKDB', 'BANKAPI']);
    expect(again.code, again.output).to.equal(0);
    expect(again.stdout).to.include('SQL0562W');
    expect(again.stdout).to.include('grants: Db2 warned (CLP exit code 2)');
    expect(standin.database()).to.deep.equal(db);
  });

  it('rolls a failing migration back and stops, naming it; once fixed, the next run applies it alone', async () => {
    start();
    const broken = join(scripts, 'migrations/006_broken.sql');
    writeFileSync(broken, withPlacementMarkers('CREATE TABLE BROKEN_NOTE (\n  NOTE_ID INTEGER NOT NULL PRIMARY KEY\n)\n@\n'
      + 'CREATE INDEX BROKEN_NOTE_ID ON NO_SUCH_TABLE (NOTE_ID)\n@\nCREATE TABLE NEVER_REACHED (\n  X INTEGER\n)\n@\n'));
    const failed = await deploy(['BANKDB', 'BANKAPI']);
    expect(failed.code).to.equal(1);
    expect(failed.stdout).to.include('SQL0204N  "BANKAPI.NO_SUCH_TABLE" is an undefined name.');
    expect(failed.stdout, '-s: the first error stops the file').not.to.include('NEVER_REACHED');
    expect(failed.stderr).to.include('deploy.sh: migration 006_broken failed (CLP exit code 4; the statement and message above say why); '
      + 'rolled back, nothing of 006_broken is kept. Fix the cause and run deploy.sh again');
    const db = standin.database();
    expect(db.schemas.BANKAPI!.tables).not.to.have.property('BROKEN_NOTE');
    expect(db.schemas.BANKAPI!.tables.SCHEMA_MIGRATION!.rows.map((row) => row.VERSION)).to.deep.equal(versions);
    expect(db.grants, 'stopped before the grants').to.deep.equal([]);
    expect(standin.openConnections()).to.deep.equal([]);

    writeFileSync(broken, readFileSync(broken, 'utf8').replace('NO_SUCH_TABLE', 'BROKEN_NOTE'));
    const fixed = await deploy(['BANKDB', 'BANKAPI']);
    expect(fixed.code, fixed.output).to.equal(0);
    expect(fixed.stdout).to.include('006_broken: applied\n');
    expect(Object.keys(standin.database().schemas.BANKAPI!.tables)).to.include.members(['BROKEN_NOTE', 'NEVER_REACHED']);
  });

  it('puts every CREATE TABLE where --in says: a table space on LUW, a database on z/OS', async () => {
    start({ tablespaces: ['USERSPACE1', 'TS8K'] });
    const luw = await deploy(['--in', 'ts8k', 'BANKDB', 'BANKAPI']);
    expect(luw.code, luw.output).to.equal(0);
    expect(luw.stdout).to.include('every table goes IN TS8K');
    const placed = (db: Database) => Object.fromEntries(Object.entries(db.schemas.BANKAPI!.tables).map(([name, t]) => [name, t.placement]));
    expect(placed(standin.database())).to.deep.equal(Object.fromEntries(tables.map((t) => [t, 'TS8K'])));
    standin.cleanup();

    start({ platform: 'zos', zosDatabases: ['BANKDB1'] });
    const zos = await deploy(['--in', 'DATABASE bankdb1', '--grantee', 'USER:APIUSER', 'BANKDB', 'BANKAPI']);
    expect(zos.code, zos.output).to.equal(0);
    expect(placed(standin.database())).to.deep.equal(Object.fromEntries(tables.map((t) => [t, 'DATABASE BANKDB1'])));
  });

  it('refuses a placement that cannot work, or a CREATE TABLE without its marker, changing nothing', async () => {
    start({ platform: 'zos', zosDatabases: ['BANKDB1'] });
    const cases: [string[], string][] = [
      [['--in', 'TS1'], 'on z/OS means table space DSNDB04.TS1 for every table'],
      [['--in', 'DATABASE NODB'], 'database NODB does not exist on this Db2 for z/OS (SYSIBM.SYSDATABASE)'],
    ];
    for (const [options, says] of cases) {
      const refused = await deploy([...options, '--grantee', 'USER:APIUSER', 'BANKDB', 'BANKAPI']);
      expect(refused.code, options.join(' ')).to.equal(1);
      expect(refused.stderr).to.include(says);
    }
    expect(standin.database().schemas).to.deep.equal({});
    standin.cleanup();

    start();
    for (const [options, says] of [
      [['--in', 'DATABASE BANKDB1'], 'is the z/OS form; on Db2 for LUW name a table space'],
      [['--in', 'NOTS'], 'table space NOTS does not exist in BANKDB (SYSCAT.TABLESPACES)'],
    ] as [string[], string][]) {
      const refused = await deploy([...options, 'BANKDB', 'BANKAPI']);
      expect(refused.code, options.join(' ')).to.equal(1);
      expect(refused.stderr).to.include(says);
    }
    expect(standin.database().schemas).to.deep.equal({});

    const schema = join(scripts, 'migrations/002_schema.sql');
    writeFileSync(schema, readFileSync(schema, 'utf8').replaceAll(' /* @IN */', ''));
    const calls = standin.calls().length;
    const unmarked = await deploy(['--in', 'USERSPACE1', 'BANKDB', 'BANKAPI']);
    expect(unmarked.code).to.equal(1);
    expect(unmarked.stderr).to.match(/002_schema\.sql: \d+ CREATE TABLE statement\(s\) but 0 \/\* @IN \*\/ marker\(s\)/);
    expect(standin.calls()).to.have.length(calls);
  });
});

describe('the CLP stand-in (test/support/db2-clp)', function () {
  this.timeout(60_000);
  let standin: Standin;
  afterEach(() => standin.cleanup());
  const count = "SELECT COUNT(*) FROM SYSIBM.SYSTABLES WHERE CREATOR = 'SYSCAT' AND NAME = 'ROLES'";

  it('keys the connection on the parent process: a db2 in a pipe, or in a pipe inside $(...), gets SQL1024N', async () => {
    standin = new Standin();
    const ran = await standin.bash(['-c', `
      db2 connect to BANKDB >/dev/null
      db2 -x "${count}"; echo "direct: $?"
      x=$(db2 -x "${count}"); echo "substitution: [$x]"
      y=$(db2 -x "${count}" | tr -d ' '); echo "pipe in substitution: [$y]"
      applied() { db2 -x "SELECT COUNT(*) FROM SCHEMA_MIGRATION WHERE VERSION = '$1'" | tr -d ' '; }
      z=$(applied 001_sample); [[ $z != 0 ]] && echo "issue 22's helper: not 0, so applied"
      ( db2 -x "${count}"; echo "subshell that forks again: $?" )
      db2 terminate >/dev/null`]);
    expect(ran.stdout).to.include('          1\ndirect: 0');
    // bash runs a lone simple command in $(...) without forking again, so the shell stays its parent; a pipe or a function forks.
    expect(ran.stdout).to.include('substitution: [          1]');
    expect(ran.stdout).to.match(/pipe in substitution: \[DB21034E[^\]]*SQL1024NAdatabaseconnectiondoesnotexist\.SQLSTATE=08003\]/);
    expect(ran.stdout).to.include("issue 22's helper: not 0, so applied");
    expect(ran.stdout).to.include('SQL1024N  A database connection does not exist.  SQLSTATE=08003\nsubshell that forks again: 4');
    expect(standin.openConnections()).to.deep.equal([]);
  });

  it('catches issue 22: the deploy.sh of before hides the prompt, takes every migration as applied, fails the grants, then the ledger', async () => {
    standin = new Standin();
    const scripts = copyScripts(standin.dir);
    copyFileSync('test/support/db2-clp/deploy-before-issue-22.sh', join(scripts, 'deploy.sh'));
    const first = await standin.bash([join(scripts, 'deploy.sh'), 'BANKDB', 'BANKAPI', 'dbauser'], 'secret\n');
    expect(first.stdout, 'its connect > /dev/null swallows the prompt').not.to.include('Enter current password');
    for (const v of versions) expect(first.stdout).to.include(`${v}: applied already`);
    expect(first.stdout).to.include('SQL0204N  "BANKAPI.LOGIN" is an undefined name.');
    expect(first.code).to.equal(4);
    expect(Object.keys(standin.database().schemas.BANKAPI!.tables), 'nothing but the ledger').to.deep.equal(['SCHEMA_MIGRATION']);

    const second = await standin.bash([join(scripts, 'deploy.sh'), 'BANKDB', 'BANKAPI']);
    expect(second.stdout).to.include('SQL0601N  The name of the object to be created is identical to the existing name "BANKAPI.SCHEMA_MIGRATION" of type "TABLE".');
    expect(second.stdout).not.to.include('001_sample');
    expect(second.code).not.to.equal(0);
  });

  it('answers with the CLP\'s return codes: 1 no rows, 2 a warning, 4 an error, a file\'s OR of them; -s stops a file', async () => {
    standin = new Standin({ platform: 'zos', roles: ['APP'] });
    const file = join(standin.dir, 'mixed.sql');
    writeFileSync(file, 'CREATE TABLE T (\n  ID INTEGER NOT NULL PRIMARY KEY\n)\n@\nGRANT SELECT ON TABLE T TO ROLE APP\n@\n'
      + 'GRANT SELECT ON TABLE T TO ROLE APP\n@\nCREATE ROLE APP\n@\nCREATE ROLE LATER\n@\n');
    const ran = await standin.bash(['-c', `
      db2 connect to BANKDB >/dev/null
      db2 "SELECT NAME FROM SYSIBM.SYSROLES WHERE NAME = 'NONE'"; echo "no rows: $?"
      db2 -x "SELECT COUNT(*) FROM SYSCAT.ROLES"; echo "no SYSCAT on z/OS: $?"
      db2 -s -td@ -f ${file}; echo "file with -s: $?"
      db2 -x "SELECT COUNT(*) FROM SYSIBM.SYSROLES WHERE NAME = 'LATER'"
      db2 -td@ -f ${file}; echo "file again, without -s: $?"
      db2 -x "SELECT COUNT(*) FROM SYSIBM.SYSROLES WHERE NAME = 'LATER'"
      db2 "GRANT SELECT ON TABLE T TO USER APIUSER"; echo "USER on z/OS: $?"
      db2 "SELECT * FROM SYSIBM.SYSCOLUMNS"; echo "not modelled: $?"
      db2 terminate >/dev/null`]);
    expect(ran.stdout).to.include('  0 record(s) selected.\n\nno rows: 1');
    expect(ran.stdout).to.include('SQL0204N  "SYSCAT.ROLES" is an undefined name.  SQLSTATE=42704\nno SYSCAT on z/OS: 4');
    expect(ran.stdout).to.include('SQL0562W  A grant of a privilege was ignored because the grantee already has the privilege from the grantor.  SQLSTATE=01560');
    expect(ran.stdout, '0 | 2 | 4, stopped before CREATE ROLE LATER').to.include('file with -s: 6\n          0\n');
    expect(ran.stdout, 'every statement ran: 4 | 2 (CREATE TABLE T exists, grants held, APP exists)').to.include('file again, without -s: 6\n          1\n');
    expect(ran.stdout).to.include('SQL0104N  An unexpected token "APIUSER" was found following "USER".');
    expect(ran.stdout).to.include('USER on z/OS: 4');
    expect(ran.stdout).to.include('not modelled: 8');
    expect(ran.stderr).to.include('db2 stand-in: not modelled:');
  });

  it('keeps a +c unit of work to its connection until COMMIT or ROLLBACK; an autocommitted statement commits it', async () => {
    standin = new Standin();
    const roles = (name: string) => `db2 -x "SELECT COUNT(*) FROM SYSCAT.ROLES WHERE ROLENAME = '${name}'"`;
    // Another shell: its db2 has another parent, so another back end (or none, before it connects).
    const other = join(standin.dir, 'other.sh');
    writeFileSync(other, `${roles('R1')}\ndb2 connect to BANKDB >/dev/null\necho "its own connection:"\n${roles('R1')}\ndb2 terminate >/dev/null\n`);
    const ran = await standin.bash(['-c', `
      db2 connect to BANKDB >/dev/null
      db2 +c "CREATE ROLE R1" >/dev/null; echo "own work:"; ${roles('R1').replace('-x', '+c -x')}
      echo "another shell:"; bash ${other}
      db2 rollback >/dev/null; echo "rolled back:"; ${roles('R1')}
      db2 +c "CREATE ROLE R2" >/dev/null; ${roles('R2')} >/dev/null; db2 rollback >/dev/null
      echo "autocommitted before the rollback:"; ${roles('R2')}
      db2 +c "CREATE ROLE R3" >/dev/null; db2 commit >/dev/null; echo "committed:"; ${roles('R3')}
      DB2OPTIONS=+c db2 "CREATE ROLE R4" >/dev/null; db2 rollback >/dev/null; echo "+c from DB2OPTIONS:"; ${roles('R4')}
      db2 terminate >/dev/null`]);
    expect(ran.stdout).to.include('own work:\n          1\n');
    expect(ran.stdout).to.include('another shell:\nDB21034E');
    expect(ran.stdout).to.include('SQL1024N  A database connection does not exist.  SQLSTATE=08003\nits own connection:\n          0\n');
    expect(ran.stdout).to.include('rolled back:\n          0\n');
    expect(ran.stdout).to.include('autocommitted before the rollback:\n          1\n');
    expect(ran.stdout).to.include('committed:\n          1\n');
    expect(ran.stdout).to.include('+c from DB2OPTIONS:\n          0\n');
  });
});
