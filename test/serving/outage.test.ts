// Host outage: with its PostgreSQL server stopped mid-run the API answers 503
// host_unavailable fast (no hanging), readiness goes 503, and when the server
// returns the API recovers by itself, with sessions intact.
import { expect } from 'chai';
import { createLogger } from '../../app/logger.js';
import { start, type Running } from '../../app/server.js';
import { OwnPostgres, postgresBinaries } from '../support/own-postgres.js';
import { ALICE, request, testConfig } from '../support/app.js';
import { expectProblem } from '../support/expect.js';
import { TEST_PIN_PEPPER, TEST_SECRET } from '../support/host.js';
import { eventually } from '../support/wait.js';

describe('host outage and recovery (a PostgreSQL server of its own)', function () {
  this.timeout(120_000);
  let pg: OwnPostgres;
  let running: Running;

  before(async function () {
    if (!postgresBinaries()) {
      console.log('      (skipped: no PostgreSQL binaries under /usr/lib/postgresql)');
      this.skip();
    }
    pg = await OwnPostgres.create();
    pg.start();
    running = await start(testConfig({ DB_URL: pg.url, PORT: '0', JWT_SECRET: TEST_SECRET, PIN_PEPPER: TEST_PIN_PEPPER, DEMO_DATA: 'true' }), { logger: createLogger('silent'), purge: false });
  });
  after(async () => {
    await running?.stop();
    pg?.destroy();
  });

  it('fails fast with 503 while the host is down, then recovers without a restart', async () => {
    const call = (method: string, path: string, options = {}) => request(running.url, method, path, options);
    const login = await call('POST', '/api/auth/login', { body: { account: ALICE.account, pin: ALICE.pin } });
    expect(login.status).to.equal(201);
    const token: string = login.body.token;
    expect((await call('GET', '/api/accounts', { token })).status).to.equal(200);

    pg.stop();
    for (const path of ['/api/accounts', '/api/sample/employee/000010']) {
      const started = Date.now();
      const response = await call('GET', path, { token });
      expectProblem(response, 503, 'host_unavailable');
      expect(response.headers.get('retry-after')).to.equal('5');
      expect(Date.now() - started, 'fails fast').to.be.below(3000);
    }
    expectProblem(await call('GET', '/health/ready'), 503, 'host_unavailable');
    expect((await call('GET', '/health/live')).status).to.equal(200);

    pg.start();
    await eventually(async () => (await call('GET', '/health/ready')).status === 200); // recovers on its own
    const after = await call('GET', '/api/accounts', { token });
    expect(after.status, 'the session survived on the host').to.equal(200);
    expect(after.body.items[0].accountId).to.equal(ALICE.account);
  });
});
