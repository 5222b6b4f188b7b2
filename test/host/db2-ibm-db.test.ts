// What ibm_db 4.0.1 itself does, shown by its real JavaScript layer (lib/odbc.js)
// over the addon stand-in: the behaviour the Db2 driver relies on, and the
// quirks it works around. If an ibm_db upgrade changes one, this says which.
import { expect } from 'chai';
import type { Db2Database, Db2Param, Db2Pool } from '../../db/db2/binding.js';
import { CLIENT_INFO_ATTRIBUTES } from '../../db/db2/registers.js';
import { DIAGNOSTICS, db2Error, diagnostic, scriptedIbmDb, type ScriptedDb2 } from '../support/ibm-db/index.js';

const CONNECTION = 'DATABASE=BANKDB;HOSTNAME=db2;PORT=50000;PROTOCOL=TCPIP;UID=app;PWD=x;CURRENTSCHEMA=BANK;';

type QueryCallback = (error: unknown, result: unknown, extra?: unknown) => void;
interface Queryable extends Db2Database {
  query(sql: string, params: unknown[], callback: QueryCallback): unknown;
}
const isQueryable = (db: Db2Database): db is Queryable => 'query' in db && typeof db.query === 'function';

function open(pool: Db2Pool): Promise<Queryable> {
  return new Promise((resolve, reject) => pool.open(CONNECTION, (error, db) => {
    if (error || !db || !isQueryable(db)) reject(error ?? new Error('no connection'));
    else resolve(db);
  }));
}

function query(db: Queryable, sql: string, params: unknown[]): Promise<{ error: unknown; result: unknown }> {
  return new Promise((resolve) => db.query(sql, params, (error, result) => resolve({ error, result })));
}

function execute(db: Db2Database, sql: string, params: Db2Param[]) {
  return new Promise<{ error: unknown; out: unknown; warning: unknown }>((resolve, reject) => db.prepare(sql, (prepareError, statement) => {
    if (prepareError || !statement) return reject(prepareError);
    statement.execute(params, (error, result, out) => {
      const warning = result?.getSQLErrorSync();
      result?.closeSync();
      statement.closeSync();
      resolve({ error, out, warning });
    });
  }));
}

/** Executes, then reads the cursor with fetchAll: what its callback gets. */
function fetchAll(db: Db2Database, sql: string) {
  return new Promise<{ error: unknown; rows: unknown }>((resolve, reject) => db.prepare(sql, (prepareError, statement) => {
    if (prepareError || !statement) return reject(prepareError);
    statement.execute(null, (error, result) => {
      if (error || !result) return reject(error);
      result.fetchAll((fetchError, rows) => {
        result.closeSync();
        statement.closeSync();
        resolve({ error: fetchError, rows });
      });
    });
  }));
}

const setAttr = (db: Db2Database, attribute: number, value: string) => new Promise<unknown>((resolve) => {
  db.setAttr(attribute, value, (error) => resolve(error));
});

const closeOf = (db: Db2Database, which: 'close' | 'realClose') => new Promise<void>((resolve) => {
  const close = which === 'close' ? db.close : db.realClose;
  if (!close) throw new Error(`no ${which}`);
  close.call(db, () => resolve());
});

/** Callers waiting in the Pool's own queue (lib/odbc.js SimpleQueue). */
function queued(pool: object): number {
  if (!('queue' in pool) || typeof pool.queue !== 'object' || pool.queue === null) return -1;
  return 'fifo' in pool.queue && Array.isArray(pool.queue.fifo) ? pool.queue.fifo.length : -1;
}

const OUT_STATUS: Db2Param = { ParamType: 'OUTPUT', DataType: 'BIGINT', Data: 0 };

describe('ibm_db 4.0.1 (its lib/odbc.js over the addon stand-in)', () => {
  let db2: ScriptedDb2;
  let ibmdb: ReturnType<typeof scriptedIbmDb>['ibmdb'];
  beforeEach(() => ({ db2, ibmdb } = scriptedIbmDb()));

  it('copies the addon\'s constants onto its exports, as it does at load', () => {
    expect(ibmdb).to.include({ SQL_DESTROY: 1, SQL_CLOSE: 0, FETCH_OBJECT: 4, FETCH_ARRAY: 3, SQL_ATTR_QUERY_TIMEOUT: 0, SQL_ATTR_INFO_ACCTSTR: 1284 });
  });

  it('reports the SQLSTATE in `sqlstate` and the SQLCODE in `sqlcode`, never in `state`', async () => {
    db2.respond = () => {
      throw db2Error('23505', -803, 'One or more values in the INSERT statement are not valid');
    };
    const db = await open(new ibmdb.Pool({ maxPoolSize: 1, connectTimeout: 5 }));
    const { error } = await query(db, 'INSERT INTO BANK.T VALUES (?)', ['x']);
    expect(error).to.be.instanceOf(Error);
    expect(error).to.include({ sqlstate: '23505', sqlcode: -803, error: '[ibm_db] SQL_ERROR' });
    expect(error).not.to.have.property('state');
  });

  it('Database.query turns a CALL that ended with a warning into an error, its OUT values passed beside it', async () => {
    db2.respond = () => ({ out: [0], outTypes: ['INTEGER'], warning: diagnostic('01H01', 462, 'Routine "LOGOUT" returned a warning') });
    const db = await open(new ibmdb.Pool({ maxPoolSize: 1, connectTimeout: 5 }));
    const { error, result } = await query(db, 'CALL BANK.LOGOUT(?)', [{ ...OUT_STATUS }]);
    expect(error).to.include({ sqlstate: '01H01', sqlcode: 462 });
    expect(result).to.deep.equal([0]);
  });

  it('a prepared statement\'s execute takes the same warning as success, keeps the OUT values, and leaves the warning readable', async () => {
    db2.respond = () => ({ out: [0], outTypes: ['INTEGER'], warning: diagnostic('01H01', 462, 'Routine "LOGOUT" returned a warning') });
    const db = await open(new ibmdb.Pool({ maxPoolSize: 1, connectTimeout: 5 }));
    const { error, out, warning } = await execute(db, 'CALL BANK.LOGOUT(?)', [{ ...OUT_STATUS }]);
    expect(error).to.equal(null);
    expect(out).to.deep.equal([0]);
    expect(warning).to.include({ sqlstate: '01H01', sqlcode: 462 });
    expect(db2.openStatements).to.equal(0);
  });

  it('binds an integer beyond 32 bits, given as BIGINT, as a double labelled BIGINT: Db2 receives another number', async () => {
    db2.respond = () => ({});
    const db = await open(new ibmdb.Pool({ maxPoolSize: 1, connectTimeout: 5 }));
    await execute(db, 'SELECT 1 FROM SYSIBM.SYSDUMMY1 WHERE ? > 0', [{ ParamType: 'INPUT', DataType: 'BIGINT', Data: 2 ** 32 }]);
    await execute(db, 'SELECT 1 FROM SYSIBM.SYSDUMMY1 WHERE ? > 0', [{ ParamType: 'INPUT', DataType: 'BIGINT', Data: 2 ** 31 - 1 }]);
    expect(db2.executed.map((e) => e.inputs[0])).to.deep.equal([4751297606875873280n, 2147483647]);
  });

  describe('what the Db2 driver works around', () => {
    it('opens a connection whose connect answered SQL_SUCCESS_WITH_INFO, and the warning is gone (UV_Open overwrites its return code)', async () => {
      db2.connectWarning = DIAGNOSTICS.singleByteOnly;
      const db = await open(new ibmdb.Pool({ maxPoolSize: 1, connectTimeout: 5 }));
      expect(db.connected).to.equal(true);
      expect(db2.events).to.deep.equal(['connect 1', 'warned 1 01539']);
    });

    it('Database.prepare hands back no statement when SQLPrepare fails, and leaves its handle allocated', async () => {
      db2.cliIni = { deferredPrepare: false };
      db2.refusePrepare = () => diagnostic('42704', -204, '"BANK.T" is an undefined name.');
      const db = await open(new ibmdb.Pool({ maxPoolSize: 1, connectTimeout: 5 }));
      const prepared = await new Promise<{ error: unknown; statement: unknown }>((resolve) => {
        db.prepare('SELECT A FROM BANK.T', (error, statement) => resolve({ error, statement }));
      });
      expect(prepared.error).to.include({ sqlstate: '42704', sqlcode: -204 });
      expect(prepared.statement).to.equal(undefined);
      expect(db2.openStatements).to.equal(1);
    });

    it('gives a prepared CALL that ended with SQL_NO_DATA (SQLCODE +100) a result, no error and no OUT values', async () => {
      db2.respond = () => ({ noData: true });
      const db = await open(new ibmdb.Pool({ maxPoolSize: 1, connectTimeout: 5 }));
      const { error, out, warning } = await execute(db, 'CALL BANK.PURGE_EXPIRED(?)', [{ ...OUT_STATUS }]);
      expect(error).to.equal(null);
      expect(out).to.equal(null);
      expect(warning).to.include({ sqlstate: '02000', sqlcode: 100 });
    });

    it('passes an empty string, or the text "null", to SQLSetConnectAttr as a NULL pointer (GETCPPSTR), which the CLI refuses with HY009', async () => {
      const db = await open(new ibmdb.Pool({ maxPoolSize: 1, connectTimeout: 5 }));
      const answers = [];
      for (const value of ['', 'null', ' ', 'C001']) answers.push(await setAttr(db, CLIENT_INFO_ATTRIBUTES.user, value));
      expect(answers.map((error) => (error ? (error as { sqlstate: string }).sqlstate : null))).to.deep.equal(['HY009', 'HY009', null, null]);
    });

    it('reports a fetch that broke part-way as an error, and drops the rows read before it', async () => {
      db2.respond = () => ({ columns: [{ name: 'A', type: 'INTEGER' }], rows: [[1], [2], [3]], fetchFailure: { afterRows: 2, diagnostic: DIAGNOSTICS.deadlock } });
      const db = await open(new ibmdb.Pool({ maxPoolSize: 1, connectTimeout: 5 }));
      const { error, rows } = await fetchAll(db, 'SELECT A FROM BANK.T');
      expect(error).to.include({ sqlstate: '40001', sqlcode: -911, error: '[node-odbc] Error in ODBCResult::UV_AfterFetchAll' });
      expect(rows).to.equal(null);
      expect(db2.openStatements).to.equal(0);
    });
  });

  describe('Pool', () => {
    it('keeps counting a connection disconnected with the raw realClose, and queues the next open with no timeout', async () => {
      const pool = new ibmdb.Pool({ maxPoolSize: 1, connectTimeout: 5 });
      await closeOf(await open(pool), 'realClose');
      expect(pool.poolSize).to.equal(1);
      expect(pool.usedPool[CONNECTION]).to.have.length(1);
      pool.open(CONNECTION, () => expect.fail('a queued open is never answered here'));
      expect(queued(pool)).to.equal(1);
    });

    it('serves a caller it queued only from its idle list: if the connection it waits for is discarded, it waits for ever', async () => {
      const pool = new ibmdb.Pool({ maxPoolSize: 1, connectTimeout: 5 });
      const db = await open(pool);
      pool.open(CONNECTION, () => expect.fail('a queued open is never answered here'));
      await closeOf(db, 'realClose');
      await closeOf(db, 'close');
      expect(pool.poolSize).to.equal(0);
      expect(queued(pool)).to.equal(1);
      const newcomer = await open(pool);
      expect(newcomer.connected).to.equal(true);
      expect(queued(pool)).to.equal(1);
    });

    it('drops a connection handed back (poolClose) after realClose, so its count comes down and the next open connects', async () => {
      const pool = new ibmdb.Pool({ maxPoolSize: 1, connectTimeout: 5 });
      const db = await open(pool);
      await closeOf(db, 'realClose');
      await closeOf(db, 'close');
      expect(pool.poolSize).to.equal(0);
      expect(pool.usedPool[CONNECTION]).to.deep.equal([]);
      expect(pool.availablePool[CONNECTION]).to.deep.equal([]);
      const next = await open(pool);
      expect(next.connected).to.equal(true);
      expect(db2.connectionStrings).to.have.length(2);
    });

    it('closes its idle connections itself only on SQL30081N, found in the message text; SQL30108N and SQL1224N pass it by', async () => {
      const pool = new ibmdb.Pool({ maxPoolSize: 3, connectTimeout: 5 });
      const [a, b, c] = await Promise.all([open(pool), open(pool), open(pool)]);
      if (!a || !b || !c) throw new Error('three connections expected');
      await closeOf(c, 'close');
      for (const [state, code] of [['08506', -30108], ['55032', -1224]] as const) {
        db2.respond = () => {
          throw db2Error(state, code, 'simulated');
        };
        const { error } = await query(a, 'SELECT 1 FROM SYSIBM.SYSDUMMY1', []);
        expect(error, `SQL${-code}N`).to.include({ sqlcode: code });
        expect(db2.connectedHandles, `SQL${-code}N`).to.equal(3);
      }
      db2.respond = () => ({});
      db2.dropConnections();
      await query(b, 'SELECT 1 FROM SYSIBM.SYSDUMMY1', []);
      // b and the idle c are disconnected and parked in the idle list, still counted; a, lost to SQL1224N, stays in use.
      expect(db2.connectedHandles).to.equal(1);
      expect(pool.availablePool[CONNECTION]?.map((db) => db.connected)).to.deep.equal([false, false]);
      expect(pool.poolSize).to.equal(3);
    });
  });
});
