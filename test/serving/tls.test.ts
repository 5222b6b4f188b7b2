// HTTPS: TLS 1.2 and 1.3 are served, TLS 1.1 is refused, plain HTTP is not
// spoken on the HTTPS port, and every response carries HSTS.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start, type Running } from '../../app/server.js';
import { createLogger } from '../../app/logger.js';
import { sharedHost } from '../support/host.js';
import { testConfig } from '../support/app.js';

function get(url: string, tls: { minVersion?: 'TLSv1.2' | 'TLSv1.3'; maxVersion?: 'TLSv1.2' | 'TLSv1.3' }) {
  return new Promise<{ status: number; hsts: string | undefined; protocol: string }>((resolve, reject) => {
    const req = request(url, { rejectUnauthorized: false, ...tls }, (res) => {
      const protocol = (res.socket as import('node:tls').TLSSocket).getProtocol() ?? '';
      res.resume();
      res.on('end', () => resolve({
        status: res.statusCode ?? 0, hsts: res.headers['strict-transport-security'] as string | undefined, protocol,
      }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTPS (TLS_CERT and TLS_KEY)', function () {
  this.timeout(30_000);
  let dir: string;
  let running: Running;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'api-tls-'));
    execFileSync('bash', ['certs/make-dev-cert.sh', dir]);
    const config = testConfig({ TLS_CERT: join(dir, 'dev-cert.pem'), TLS_KEY: join(dir, 'dev-key.pem'), PORT: '0' });
    running = await start(config, { host: await sharedHost(), logger: createLogger('silent'), purge: false });
  });
  after(async () => {
    await running?.stop(); // the shared host stays open: start() did not open it
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves TLS 1.2 and TLS 1.3, with HSTS on every response', async () => {
    expect(running.url).to.match(/^https:\/\//);
    const v12 = await get(`${running.url}/health/live`, { maxVersion: 'TLSv1.2' });
    expect(v12).to.include({ status: 200, protocol: 'TLSv1.2' });
    expect(v12.hsts).to.match(/max-age=\d+/);
    const v13 = await get(`${running.url}/health/live`, { minVersion: 'TLSv1.3' });
    expect(v13).to.include({ status: 200, protocol: 'TLSv1.3' });
  });

  it('refuses a TLS 1.1 client', async () => {
    const port = Number(new URL(running.url).port);
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0', rejectUnauthorized: false });
      socket.on('secureConnect', () => { resolve(`connected with ${socket.getProtocol()}`); socket.destroy(); });
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
    expect(outcome).not.to.match(/^connected/);
    expect(outcome).to.match(/PROTOCOL|VERSION|ALERT|ECONNRESET/i);
  });

  it('does not speak plain HTTP on the HTTPS port', async () => {
    const error = await fetch(running.url.replace('https:', 'http:') + '/health/live').then((r) => `status ${r.status}`, (e: Error) => e.message);
    expect(error).not.to.equal('status 200');
  });
});
