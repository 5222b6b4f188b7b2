// The Db2 driver's connections, through ibm_db's real Pool over the addon
// stand-in: the bound, the acquire timeout, lost connections handed back so
// the Pool's count stays true, and recovery from a failover (SQL30108N).
import { expect } from 'chai';
import { HostUnavailableError, type HostValue } from '../../db/host.js';
import { procedures, type ProcedureName } from '../../db/procedures.js';
import { DIAGNOSTICS, book, db2Error, gate, openScriptedHost, type Db2Fixture, type Reply } from '../support/ibm-db/index.js';

const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail('expected a failure'), (error: unknown) => error);
const argsFor = (procedure: ProcedureName): Record<string, HostValue> =>
  Object.fromEntries(procedures[procedure].in.map((name) => [name, null]));
const OK: Reply = { columns: [{ name: 'OK', type: 'INTEGER' }], rows: [[1]] };

describe('Db2 driver pool (ibm_db\'s Pool over the addon stand-in)', () => {
  describe('the bound', () => {
    it('never holds more connections than DB_POOL_SIZE, and gives every one back', async () => {
      const fixture = openScriptedHost({ poolSize: 3 });
      const { host, db2 } = fixture;
      const held = gate();
      db2.respond = async () => {
        await held.wait();
        return OK;
      };
      const pings = Array.from({ length: 12 }, () => host.ping());
      await db2.until(() => db2.executed.length === 3);
      expect(host.stats().pool).to.deep.equal({ inUse: 3, open: 3, waiting: 9, max: 3 });
      held.open();
      await Promise.all(pings);
      expect(db2.executed).to.have.length(12);
      expect(db2.maxOpenConnections).to.equal(3);
      expect(db2.connectionStrings).to.have.length(3);
      expect(host.stats().pool).to.deep.equal({ inUse: 0, open: 3, waiting: 0, max: 3 });
      expect(book(fixture)).to.deep.equal({ counted: 3, inUse: 0, idleConnected: 3, idleClosed: 0, db2Open: 3, db2Handles: 3 });
    });

    it('answers 503 when every connection stays busy past the acquire timeout', async () => {
      const { host, db2 } = openScriptedHost({ poolSize: 1, acquireTimeoutMs: 100 });
      const held = gate();
      db2.respond = async () => {
        await held.wait();
        return OK;
      };
      const busy = host.ping();
      await db2.until(() => db2.executed.length === 1);
      const started = Date.now();
      const error = await failure(host.ping());
      const waited = Date.now() - started;
      expect(error).to.be.instanceOf(HostUnavailableError).with.property('message').that.matches(/pool exhausted/);
      expect(waited).to.be.at.least(90).and.below(2000);
      held.open();
      await busy;
      expect(host.stats().pool).to.include({ inUse: 0, open: 1, waiting: 0 });
    });

    it('answers 503 within the acquire timeout when Db2 does not answer a connect, and frees the slot when the CLI gives up', async () => {
      const fixture = openScriptedHost({ poolSize: 1, acquireTimeoutMs: 100, connectTimeoutMs: 1000 });
      const { host, db2 } = fixture;
      db2.secondMs = 150; // the CLI's login timeout (1 s) ends after the acquire timeout
      db2.accepting = 'hang';
      const error = await failure(host.ping());
      expect(error).to.be.instanceOf(HostUnavailableError).with.property('message').that.matches(/no Db2 connection within 100 ms/);
      await db2.until(() => db2.connectFailures === 1);
      db2.accepting = 'yes';
      db2.respond = () => OK;
      await host.ping();
      expect(book(fixture)).to.include({ counted: 1, inUse: 0, idleConnected: 1 });
    });

    it('lets a login slower than the acquire timeout finish within connectTimeoutMs: that call answers 503, the next one gets the connection', async () => {
      const fixture = openScriptedHost({ poolSize: 1, acquireTimeoutMs: 100, connectTimeoutMs: 10_000 });
      const { host, db2 } = fixture;
      db2.secondMs = 50;
      db2.loginSeconds = 3; // TLS and authentication through Db2 Connect: 150 ms here, past the 100 ms acquire timeout
      db2.respond = () => OK;
      const error = await failure(host.ping());
      expect(error).to.be.instanceOf(HostUnavailableError).with.property('message').that.matches(/no Db2 connection within 100 ms/);
      await db2.until(() => db2.openConnections === 1);
      await host.ping();
      expect(db2.loginTimeouts).to.deep.equal([10]);
      expect(book(fixture)).to.deep.equal({ counted: 1, inUse: 0, idleConnected: 1, idleClosed: 0, db2Open: 1, db2Handles: 1 });
    });

    it('never connects while the login timeout is shorter than the login (as when it came from the 1 s acquire timeout)', async () => {
      const fixture = openScriptedHost({ poolSize: 1, acquireTimeoutMs: 100, connectTimeoutMs: 1000 });
      const { host, db2 } = fixture;
      db2.secondMs = 50;
      db2.loginSeconds = 3;
      for (let i = 0; i < 2; i += 1) {
        expect(await failure(host.ping())).to.be.instanceOf(HostUnavailableError);
        await db2.until(() => db2.connectFailures === i + 1);
      }
      expect(db2.loginTimeouts).to.deep.equal([1, 1]);
      expect(book(fixture)).to.include({ counted: 0, inUse: 0, db2Open: 0 });
    });

    it('takes a connect that Db2 answered with a warning as open, as ibm_db does (it drops the warning unseen): no retry, no error', async () => {
      const fixture = openScriptedHost({ poolSize: 1 });
      const { host, db2, warnings } = fixture;
      db2.connectWarning = DIAGNOSTICS.singleByteOnly;
      db2.respond = () => OK;
      await host.ping();
      await host.call('logout', argsFor('logout'));
      expect(db2.events.filter((e) => /^(connect|warned|disconnect)/.test(e))).to.deep.equal(['connect 1', 'warned 1 01539']);
      expect(db2.executed.map((e) => e.connection)).to.deep.equal([1, 1]);
      expect(warnings).to.deep.equal([]);
      expect(book(fixture)).to.deep.equal({ counted: 1, inUse: 0, idleConnected: 1, idleClosed: 0, db2Open: 1, db2Handles: 1 });
    });

    it('answers 503 at once when Db2 refuses the connection (SQL30081N)', async () => {
      const fixture = openScriptedHost({ poolSize: 2 });
      fixture.db2.accepting = DIAGNOSTICS.communication;
      const error = await failure(fixture.host.ping());
      expect(error).to.be.instanceOf(HostUnavailableError).and.include({ sqlState: '08001' });
      expect(book(fixture)).to.include({ counted: 0, inUse: 0 });
    });

    it('gives the connection back when the statement fails', async () => {
      const fixture = openScriptedHost();
      fixture.db2.respond = () => {
        throw db2Error('42601', -104, 'An unexpected token');
      };
      await failure(fixture.host.ping());
      expect(book(fixture)).to.deep.equal({ counted: 1, inUse: 0, idleConnected: 1, idleClosed: 0, db2Open: 1, db2Handles: 1 });
    });
  });

  describe('lost connections', () => {
    it('discards a connection lost to the network (SQL30081N) through the Pool and retries a safe call once on a fresh one', async () => {
      const fixture = openScriptedHost();
      const { host, db2 } = fixture;
      db2.respond = () => OK;
      await host.ping();
      db2.dropConnections();
      await host.call('logout', argsFor('logout'));
      // The CALL on connection 1 never reached Db2: the CLI found the connection gone.
      expect(db2.executed.map((e) => e.connection)).to.deep.equal([1, 2]);
      expect(db2.events).to.include('disconnect 1');
      expect(book(fixture)).to.deep.equal({ counted: 1, inUse: 0, idleConnected: 1, idleClosed: 0, db2Open: 1, db2Handles: 1 });
      expect(host.stats().pool).to.include({ inUse: 0, open: 1 });
    });

    it('discards connections lost to SQL1224N and SQL0900N (which ibm_db itself passes by) so the Pool\'s count stays true', async () => {
      const fixture = openScriptedHost({ poolSize: 2 });
      const { host, db2 } = fixture;
      let attempt = 0;
      db2.respond = () => {
        attempt += 1;
        // Every first attempt is lost: five times more connections lost than the pool holds.
        if (attempt % 2 === 1) throw attempt % 4 === 1 ? db2Error('55032', -1224, 'The database manager is not able to accept new requests') : db2Error('08003', -900, 'A database connection does not exist');
        return OK;
      };
      for (let i = 0; i < 10; i += 1) await host.call('logout', argsFor('logout'));
      expect(book(fixture)).to.deep.equal({ counted: 1, inUse: 0, idleConnected: 1, idleClosed: 0, db2Open: 1, db2Handles: 1 });
      expect(host.stats().pool).to.include({ inUse: 0, open: 1 });
      db2.respond = () => OK;
      await Promise.all([host.ping(), host.ping()]);
      expect(book(fixture)).to.include({ counted: 2, idleConnected: 2, db2Open: 2, db2Handles: 2 });
    });

    it('never retries LOGIN (it counts failures): the lost connection is discarded and the call answers 503', async () => {
      const fixture = openScriptedHost();
      const { host, db2 } = fixture;
      db2.respond = () => {
        throw db2Error('55032', -1224, 'The database manager is not able to accept new requests');
      };
      const error = await failure(host.call('login', argsFor('login')));
      expect(error).to.be.instanceOf(HostUnavailableError);
      expect(db2.executed).to.have.length(1);
      expect(book(fixture)).to.include({ counted: 0, inUse: 0, db2Handles: 0 });
    });

    it('gives up after one retry', async () => {
      const fixture = openScriptedHost();
      fixture.db2.respond = () => {
        throw db2Error('08001', -30081, 'A communication error has been detected');
      };
      expect(await failure(fixture.host.ping())).to.be.instanceOf(HostUnavailableError);
      expect(fixture.db2.executed).to.have.length(2);
      expect(book(fixture)).to.include({ inUse: 0, idleConnected: 0, db2Handles: 0 });
    });
  });

  describe('failover (automatic client reroute, SQL30108N)', () => {
    /** Every pooled connection used once, then the primary fails over. */
    async function afterFailover(fixture: Db2Fixture, connections: number): Promise<void> {
      const { host, db2 } = fixture;
      const held = gate();
      db2.respond = async () => {
        await held.wait();
        return OK;
      };
      const warm = Array.from({ length: connections }, () => host.ping());
      await db2.until(() => db2.executed.length === connections);
      held.open();
      await Promise.all(warm);
      db2.respond = () => ({ out: [0] });
      db2.failover('db2-b');
    }

    it('repeats a safe call once on the same, rerouted connection, its schema, path and lock timeout set again first', async () => {
      const fixture = openScriptedHost({ poolSize: 2 });
      const { host, db2 } = fixture;
      await afterFailover(fixture, 2);
      await host.call('logout', argsFor('logout'), { requestId: 'req-9', customerId: 'C001' });
      // The first attempt ended in SQL30108N before it ran; the repeat ran on the member now serving connection 1.
      expect(db2.events).to.include('rerouted 1 to db2-b');
      const [repeated, ...more] = db2.executed.slice(2);
      expect(more).to.deep.equal([]);
      expect(repeated).to.include({ connection: 1, member: 'db2-b' });
      expect(repeated?.registers).to.deep.equal({ schema: 'BANK', path: '"SYSIBM","SYSFUN","SYSPROC","SYSIBMADM","BANK"', lockTimeout: 5 });
      expect(repeated?.clientInfo).to.include({ application: 'host-session-api', user: 'C001', accounting: 'request=req-9' });
      expect(db2.events.filter((e) => e.startsWith('disconnect'))).to.deep.equal([]);
    });

    it('keeps the Pool\'s count true afterwards, and the pool serves every connection again', async () => {
      const fixture = openScriptedHost({ poolSize: 2 });
      const { host, db2 } = fixture;
      await afterFailover(fixture, 2);
      await Promise.all([host.call('logout', argsFor('logout')), host.call('logout', argsFor('logout'))]);
      await Promise.all([host.ping(), host.ping(), host.ping()]);
      expect(db2.events.filter((e) => e.startsWith('rerouted')).sort()).to.deep.equal(['rerouted 1 to db2-b', 'rerouted 2 to db2-b']);
      expect(db2.executed.slice(2).map((e) => e.member)).to.deep.equal(Array(5).fill('db2-b'));
      expect(db2.events.filter((e) => e.startsWith('disconnect'))).to.deep.equal([]);
      expect(book(fixture)).to.deep.equal({ counted: 2, inUse: 0, idleConnected: 2, idleClosed: 0, db2Open: 2, db2Handles: 2 });
      expect(host.stats().pool).to.deep.equal({ inUse: 0, open: 2, waiting: 0, max: 2 });
    });

    it('answers a rerouted LOGIN with 503 (its unit of work was rolled back), and keeps the working connection', async () => {
      const fixture = openScriptedHost({ poolSize: 1 });
      const { host, db2 } = fixture;
      await afterFailover(fixture, 1);
      const error = await failure(host.call('login', argsFor('login')));
      expect(error).to.be.instanceOf(HostUnavailableError).and.include({ sqlState: '08506' });
      expect(db2.statements('CALL BANK.LOGIN')).to.deep.equal([]);
      await host.call('login', argsFor('login'));
      const [login] = db2.statements('CALL BANK.LOGIN');
      expect(login).to.include({ connection: 1, member: 'db2-b' });
      expect(login?.registers.schema).to.equal('BANK');
      expect(book(fixture)).to.deep.equal({ counted: 1, inUse: 0, idleConnected: 1, idleClosed: 0, db2Open: 1, db2Handles: 1 });
    });
  });

  it('closes every connection it opened when the host closes', async function () {
    this.timeout(10_000); // ibm_db's Pool.close waits 2 s before it closes anything
    const fixture = openScriptedHost({ poolSize: 3 });
    fixture.db2.respond = () => OK;
    await Promise.all([fixture.host.ping(), fixture.host.ping()]);
    await fixture.host.close();
    expect(fixture.db2.connectedHandles).to.equal(0);
    expect(await failure(fixture.host.ping())).to.be.instanceOf(HostUnavailableError);
  });
});
