// The Db2 driver when a statement fails part-way, through ibm_db's real
// lib/odbc.js over the addon stand-in: a cursor that breaks after some rows,
// and a prepare the server refuses. Each answer is mapped, no partial result
// passes for a whole one, and no statement handle or connection is left behind.
import { expect } from 'chai';
import { HostError, HostUnavailableError } from '../../db/host.js';
import { statements } from '../../db/statements.js';
import { DIAGNOSTICS, book, diagnostic, openScriptedHost, type Reply } from '../support/ibm-db/index.js';

const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail('expected a failure'), (error: unknown) => error);

/** Five sessions of a customer, the cursor breaking after the second when `diagnostic` is given. */
function fiveRows(broken?: ReturnType<typeof diagnostic>): Reply {
  return {
    columns: [{ name: 'SESSION_HASH', type: 'CHAR(16)' }, { name: 'CUSTOMER_ID', type: 'VARCHAR(12)' }],
    rows: [1, 2, 3, 4, 5].map((i) => [`hash-${i}`, 'C001']),
    ...(broken ? { fetchFailure: { afterRows: 2, diagnostic: broken } } : {}),
  };
}

describe('Db2 driver: statements that fail part-way (ibm_db\'s lib/odbc.js over the addon stand-in)', () => {
  describe('a cursor that breaks while it is read', () => {
    it('answers 503 for SQL0911N (deadlock, its unit of work rolled back), returns none of the rows read, and is not retried', async () => {
      const fixture = openScriptedHost({ poolSize: 1 });
      const { host, db2 } = fixture;
      db2.respond = () => fiveRows(DIAGNOSTICS.deadlock);
      const error = await failure(host.query(statements.sessionRead, ['sid-1']));
      expect(error).to.be.instanceOf(HostUnavailableError).and.include({ sqlState: '40001' });
      expect(db2.executed).to.have.length(1);
      expect(db2.events).to.include('rollback 1 (server)');
      expect(db2.openStatements).to.equal(0);
      expect(book(fixture)).to.deep.equal({ counted: 1, inUse: 0, idleConnected: 1, idleClosed: 0, db2Open: 1, db2Handles: 1 });
      // The connection itself is sound: the next call reads every row on it.
      db2.respond = () => fiveRows();
      expect(await host.query(statements.sessionRead, ['sid-1'])).to.have.length(5);
      expect(db2.executed.map((e) => e.connection)).to.deep.equal([1, 1]);
    });

    it('answers a cursor broken by a data exception (22001) with a plain HostError (500), the handle freed and the connection kept', async () => {
      const fixture = openScriptedHost({ poolSize: 1 });
      const { host, db2 } = fixture;
      db2.respond = () => fiveRows(diagnostic('22001', -302, 'The value of a host variable is too long.'));
      const error = await failure(host.query(statements.sessionRead, ['sid-1']));
      expect(error).to.be.instanceOf(HostError).and.include({ sqlState: '22001' });
      expect(error).not.to.be.instanceOf(HostUnavailableError);
      expect(db2.openStatements).to.equal(0);
      expect(book(fixture)).to.include({ inUse: 0, idleConnected: 1, db2Open: 1 });
    });

    it('discards a connection lost while its cursor was read (SQL30081N) and reads once more on a fresh one: all rows or none', async () => {
      const fixture = openScriptedHost({ poolSize: 1 });
      const { host, db2 } = fixture;
      // The first attempt's cursor breaks with the connection; the repeat reads every row.
      db2.respond = () => fiveRows(db2.executed.length === 1 ? DIAGNOSTICS.communication : undefined);
      const rows = await host.query(statements.sessionRead, ['sid-1']);
      expect(rows.map((row) => row.session_hash)).to.deep.equal([1, 2, 3, 4, 5].map((i) => `hash-${i}`.padEnd(16)));
      expect(db2.executed.map((e) => e.connection)).to.deep.equal([1, 2]);
      expect(db2.openStatements).to.equal(0);
      expect(book(fixture)).to.deep.equal({ counted: 1, inUse: 0, idleConnected: 1, idleClosed: 0, db2Open: 1, db2Handles: 1 });
    });
  });

  describe('a prepare the server refuses', () => {
    const undefinedLedger = (sql: string) =>
      (sql.includes('SCHEMA_MIGRATION') ? diagnostic('42704', -204, '"BANK.SCHEMA_MIGRATION" is an undefined name.') : undefined);

    it('frees the statement handle when SQLPrepare fails (DeferredPrepare=0 in db2cli.ini): none left over 50 failed prepares', async () => {
      const fixture = openScriptedHost({ poolSize: 2 });
      const { host, db2 } = fixture;
      db2.cliIni = { deferredPrepare: false };
      db2.refusePrepare = undefinedLedger;
      const open: number[] = [];
      for (let i = 0; i < 50; i += 1) {
        // No ledger yet (SQL0204N, here from the prepare) reads as "nothing applied".
        expect(await host.appliedMigrations()).to.deep.equal(new Set());
        open.push(db2.openStatements);
      }
      expect(Math.max(...open)).to.equal(0);
      expect(db2.statements('SELECT VERSION')).to.deep.equal([]);
      expect(book(fixture)).to.include({ inUse: 0, idleConnected: 1 });
    });

    it('maps a refused prepare like the same refusal from the execute, where deferred prepare (the CLI default) puts it', async () => {
      const answers = [];
      for (const deferredPrepare of [false, true]) {
        const { host, db2 } = openScriptedHost();
        db2.cliIni = { deferredPrepare };
        db2.refusePrepare = () => diagnostic('42601', -104, 'An unexpected token "FORM" was found.');
        const error = await failure(host.query(statements.sessionRead, ['sid-1']));
        answers.push({ type: error instanceof HostUnavailableError ? 503 : error instanceof HostError ? 500 : 0, state: (error as HostError).sqlState });
        expect(db2.openStatements).to.equal(0);
      }
      expect(answers).to.deep.equal([{ type: 500, state: '42601' }, { type: 500, state: '42601' }]);
    });

    it('discards a connection whose prepare found it lost (SQL30081N), and repeats a safe call once on a fresh one', async () => {
      const fixture = openScriptedHost({ poolSize: 1 });
      const { host, db2 } = fixture;
      db2.cliIni = { deferredPrepare: false };
      db2.respond = () => ({ columns: [{ name: 'OK', type: 'INTEGER' }], rows: [[1]] });
      await host.ping();
      db2.dropConnections();
      await host.ping();
      expect(db2.events).to.include('disconnect 1');
      expect(db2.executed.map((e) => e.connection)).to.deep.equal([1, 2]);
      expect(db2.openStatements).to.equal(0);
      expect(book(fixture)).to.deep.equal({ counted: 1, inUse: 0, idleConnected: 1, idleClosed: 0, db2Open: 1, db2Handles: 1 });
    });
  });
});
