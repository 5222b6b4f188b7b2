// Errors that say the next step: a NetworkError names the reason the socket
// or TLS gave (and keeps it as `cause`), and IndexedDbKeyStore in Node says
// which key store to use instead of failing with "indexedDB is not defined".
import { expect } from 'chai';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BankClient, ClientError, IndexedDbKeyStore, KeyStoreUnavailable, NetworkError } from '../../client/src/index.js';
import { ALICE } from '../support/app.js';

const ROOT = new URL('../../', import.meta.url);

async function listening(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closed(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** The NetworkError a login to `baseUrl` fails with. */
async function networkFailure(baseUrl: string, options: { requestTimeoutMs?: number } = {}): Promise<NetworkError> {
  try {
    await new BankClient({ baseUrl, ...options }).login(ALICE.account, ALICE.pin);
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(NetworkError);
    return error as NetworkError;
  }
  throw new Error(`the login to ${baseUrl} succeeded`);
}

/** The first `code` along an error's cause chain. */
function causeCode(error: unknown): unknown {
  for (let at = error; at instanceof Error; at = at.cause) {
    if ('code' in at && typeof at.code === 'string') return at.code;
  }
  return undefined;
}

describe('NetworkError: the reason and the next step', () => {
  it('names ECONNREFUSED and the address when nothing listens at baseUrl, and keeps the cause', async () => {
    const server = createHttpServer();
    const address = await listening(server);
    await closed(server); // the port was free a moment ago: now nothing listens on it
    const failure = await networkFailure(`http://${address}`);
    expect(failure.code).to.equal('network_error');
    expect(failure.message).to.include(`http://${address} could not be reached`)
      .and.include(`ECONNREFUSED: connect ECONNREFUSED ${address}`)
      .and.include('is the service running, and is baseUrl right?');
    expect(failure.cause).to.be.instanceOf(TypeError); // undici's "fetch failed", the socket's error inside it
    expect(causeCode(failure.cause)).to.equal('ECONNREFUSED');
  });

  describe('a service on TLS with a self-signed certificate (npm run certs makes one)', () => {
    let folder: string;
    let server: Server;
    let address: string;

    before(async () => {
      folder = mkdtempSync(join(tmpdir(), 'host-session-cert-'));
      execFileSync('bash', [new URL('certs/make-dev-cert.sh', ROOT).pathname, folder]);
      server = createHttpsServer({ cert: readFileSync(join(folder, 'dev-cert.pem')), key: readFileSync(join(folder, 'dev-key.pem')) },
        (_req, res) => res.end('trusted'));
      address = await listening(server);
    });
    after(async () => {
      await closed(server);
      rmSync(folder, { recursive: true, force: true });
    });

    it('names the certificate error and says to trust the certificate with NODE_EXTRA_CA_CERTS', async () => {
      const failure = await networkFailure(`https://${address}`);
      expect(failure.message).to.include('DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate')
        .and.include('NODE_EXTRA_CA_CERTS=<its PEM file>');
      expect(causeCode(failure.cause)).to.equal('DEPTH_ZERO_SELF_SIGNED_CERT');
    });

    it('is trusted by a Node process started with NODE_EXTRA_CA_CERTS naming that certificate, as the message says', async () => {
      const script = `const r = await fetch(${JSON.stringify(`https://${address}/`)}); console.log(r.status, await r.text());`;
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
        env: { ...process.env, NODE_EXTRA_CA_CERTS: join(folder, 'dev-cert.pem') },
      });
      expect(stdout.trim()).to.equal('200 trusted');
    });
  });

  it('says when no whole answer came within requestTimeoutMs', async () => {
    const server = createHttpServer(() => {}); // takes the request and never answers
    const address = await listening(server);
    try {
      const failure = await networkFailure(`http://${address}`, { requestTimeoutMs: 50 });
      expect(failure.message).to.include('TimeoutError').and.include('no whole answer within requestTimeoutMs');
    } finally {
      await closed(server);
    }
  });
});

describe('IndexedDbKeyStore outside a browser', () => {
  it('refuses to be made in Node, saying to use MemoryKeyStore or a KeyStore of the app\u2019s own', () => {
    expect(globalThis).not.to.have.property('indexedDB');
    let refused: unknown;
    try {
      new IndexedDbKeyStore();
    } catch (error) {
      refused = error;
    }
    expect(refused).to.be.instanceOf(KeyStoreUnavailable).and.to.be.instanceOf(ClientError);
    expect(refused).to.include({
      code: 'key_store_unavailable',
      message: "IndexedDbKeyStore needs a browser's IndexedDB; in Node use MemoryKeyStore (or your own KeyStore that persists the key).",
    });
  });

  it('is made with an IndexedDB factory the app gives it (a polyfill, a test double)', () => {
    const factory = {} as IDBFactory; // never opened: making the store only takes note of it
    expect(new IndexedDbKeyStore({ indexedDB: factory })).to.be.instanceOf(IndexedDbKeyStore);
  });
});
