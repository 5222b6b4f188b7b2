// The embedded host on disk: a restart keeps the data and does not seed again.
import { expect } from 'chai';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../app/logger.js';
import { start } from '../../app/server.js';
import { request, STAFF, testConfig } from '../support/app.js';

describe('restarting on an embedded host on disk', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'api-restart-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the data and the development secret, and seeds only the first time', async () => {
    const config = testConfig({ DB_URL: `pglite:${join(dir, 'host')}`, PORT: '0', DEMO_DATA: 'true' });
    const first = await start(config, { logger: createLogger('silent'), purge: false });
    expect(first.migrated).to.deep.equal({ applied: ['001_baseline'], seeded: true });
    const login = await request(first.url, 'POST', '/api/auth/login', { body: { account: STAFF.account, pin: STAFF.pin } });
    const token: string = login.body.token;
    const created = await request(first.url, 'POST', '/api/sample/employee', { token, body: { empno: '777777', firstName: 'KEPT', lastName: 'ACROSS', edLevel: 3 } });
    expect(created.status).to.equal(201);
    await first.stop();
    expect(statSync(join(dir, 'host-jwt-secret')).mode & 0o777).to.equal(0o600);

    const second = await start(config, { logger: createLogger('silent'), purge: false });
    try {
      expect(second.migrated).to.deep.equal({ applied: [], seeded: false });
      // Same secret from beside the data: the token and the demo PIN digests still work.
      const kept = await request(second.url, 'GET', '/api/sample/employee/777777', { token });
      expect(kept.status).to.equal(200);
      expect(kept.body.firstName).to.equal('KEPT');
      const list = await request(second.url, 'GET', '/api/sample/employee?limit=1', { token });
      expect(list.body.total).to.equal(36); // 35 seeded once, plus the one created
    } finally {
      await second.stop();
    }
  });
});
