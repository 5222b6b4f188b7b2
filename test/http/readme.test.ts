// The README's curl walkthrough ("Run it"), run as written against the
// service: login, accounts, a transfer, logout. Only the address changes.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { startApp, type TestApp } from '../support/app.js';
import { hostRows, resetHost } from '../support/host.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
/** The first shell block that logs in with curl. */
const WALKTHROUGH = /```sh\n(TOKEN=\$\(curl[\s\S]*?)```/.exec(README)?.[1];

describe('the README\u2019s curl walkthrough', () => {
  let api: TestApp;
  before(async () => {
    await resetHost();
    api = await startApp();
  });
  after(() => api.close());

  it('logs in, lists the accounts, sends a transfer and logs out, as it says', async () => {
    expect(WALKTHROUGH, 'README.md has the walkthrough').to.be.a('string');
    const script = String(WALKTHROUGH).replaceAll('localhost:8080', api.url.replace(/^http:\/\//, ''));
    const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script]);
    expect(stdout).to.include('{"items":[{"accountId":"100000001","bankId":"DEMOBANK1","kind":"current","currency":"EUR","balance":"1000.00"}');
    expect(stdout).to.match(/\{"transferId":"[0-9a-f-]{36}","fromAccount":"100000001","toAccount":"200000001","amount":"25.00","currency":"EUR","reference":"Lunch",/);
    expect(stdout.trimEnd()).to.match(/\n?204$/);
    const booked = await hostRows("SELECT amount FROM transfer WHERE reference = 'Lunch'");
    expect(booked.map((row) => String(row.amount))).to.deep.equal(['25.00']);
    expect(await hostRows('SELECT 1 FROM host_session'), 'logged out: no session left').to.deep.equal([]);
  });
});
