// Graceful shutdown: SIGTERM during a slow request lets it finish, refuses
// new connections, closes the host and exits 0.
import { expect } from 'chai';
import { spawnChild, type Child } from '../support/child.js';
import { ALICE } from '../support/app.js';

describe('graceful shutdown on SIGTERM', function () {
  this.timeout(180_000); // a bound for a machine under load, not a wait: every step waits on an event
  let child: Child;
  afterEach(() => child?.kill());

  it('lets the in-flight request finish, then exits 0', async () => {
    child = spawnChild(['test/fixtures/slow-server.ts'], {});
    const { url } = JSON.parse(await child.waitFor(/^\{"url"/)) as { url: string };
    const login = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ account: ALICE.account, pin: ALICE.pin }) });
    const { token } = await login.json() as { token: string };

    const started = Date.now();
    const slow = fetch(`${url}/api/sample/employee/000010`, { headers: { authorization: `Bearer ${token}` } });
    await child.waitFor(/"slowQuery":"started"/); // the request is in flight
    child.process.kill('SIGTERM');
    const response = await slow;
    expect(response.status).to.equal(200);
    expect((await response.json() as { lastName: string }).lastName).to.equal('HAAS');
    expect(Date.now() - started).to.be.at.least(1400);
    const refused = await fetch(`${url}/health/live`).then(() => 'answered', () => 'refused');
    expect(refused).to.equal('refused');
    expect(await child.exited).to.equal(0);
  });
});
