// Transfers over a bad connection: a loopback proxy between the client and
// the service forwards a transfer, lets the host book it, and cuts the
// connection before the answer reaches the client (or answers 503 itself).
// The client retries with the same Idempotency-Key and signature, and the
// transfer is booked once.
import { expect } from 'chai';
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BankClient, NetworkError, ServiceUnavailable } from '../../client/src/index.js';
import { ALICE, BOB, startApp, type TestApp } from '../support/app.js';
import { hostRows, resetHost } from '../support/host.js';
import { jwsParts } from './support.js';

/** What the proxy does with one request. */
type Plan = 'forward' | 'cut after commit' | 'answer 503' | 'gateway 502 after commit';

interface Passed {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  plan: Plan;
}

async function whole(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** An HTTP proxy on 127.0.0.1 in front of `target`; `plan` decides each request's fate. */
class FaultyProxy {
  private constructor(private readonly server: Server, readonly url: string, readonly passed: Passed[]) {}

  static async start(target: string, plan: (method: string, path: string) => Plan): Promise<FaultyProxy> {
    const upstream = new URL(target);
    const passed: Passed[] = [];
    const server = createServer((req, res) => {
      void (async () => {
        const body = await whole(req);
        const decided = plan(req.method ?? '', req.url ?? '');
        passed.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, plan: decided });
        if (decided === 'answer 503') {
          // What the service says while its host is down (app/problem.ts), Retry-After included.
          res.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '1' }).end(JSON.stringify({
            type: 'urn:problem:host_unavailable', title: 'Host unavailable', status: 503, code: 'host_unavailable',
            detail: 'The host is not reachable; try again shortly.', requestId: 'proxy',
          }));
          return;
        }
        // Host stays as the client sent it: the service checks the proof's htu against it.
        const forwarded = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers });
        forwarded.end(body);
        const answer = await new Promise<IncomingMessage>((resolve, reject) => forwarded.on('response', resolve).on('error', reject));
        const answerBody = await whole(answer); // the whole answer: the host has committed
        if (decided === 'cut after commit') {
          req.socket.destroy();
          return;
        }
        if (decided === 'gateway 502 after commit') {
          // nginx's own page when the instance it chose died before answering (it repeats no POST).
          res.writeHead(502, { 'content-type': 'text/html' }).end('<html><head><title>502 Bad Gateway</title></head></html>');
          return;
        }
        const headers = { ...answer.headers, 'content-length': String(answerBody.length) };
        delete headers['transfer-encoding'];
        res.writeHead(answer.statusCode ?? 502, headers).end(answerBody);
      })().catch(() => res.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new FaultyProxy(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, passed);
  }

  transfers(): Passed[] {
    return this.passed.filter((p) => p.method === 'POST' && p.path === '/api/transfers');
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('BankClient transfers over a connection that fails', () => {
  let api: TestApp;
  let proxy: FaultyProxy;
  let transfersSeen = 0;
  /** Which tries of POST /api/transfers fail, and how (1-based); every other request passes. */
  let failures: Map<number, Plan>;
  const transfer = { fromAccount: ALICE.account, toAccount: BOB.account, amount: '25.00', reference: 'rent' };
  const client = (attempts = 4) => new BankClient({ baseUrl: proxy.url, now: api.clock.read, retry: { attempts, delayMs: () => 0 } });
  const booked = () => hostRows('SELECT transfer_id, amount FROM transfer');
  const balance = async () => (await hostRows('SELECT balance FROM account WHERE account_id = $1', [ALICE.account]))[0]?.balance;

  beforeEach(async () => {
    await resetHost();
    api = await startApp();
    transfersSeen = 0;
    failures = new Map();
    proxy = await FaultyProxy.start(api.url, (method, path) => {
      if (method !== 'POST' || path !== '/api/transfers') return 'forward';
      return failures.get(++transfersSeen) ?? 'forward';
    });
  });
  afterEach(async () => {
    await proxy.close();
    await api.close();
  });

  it('retries a transfer whose answer was lost after the host booked it, and gets the original booking back', async () => {
    failures.set(1, 'cut after commit');
    const alice = client();
    await alice.login(ALICE.account, ALICE.pin);
    const result = await alice.transfer(transfer);
    const rows = await booked();
    expect(rows).to.have.length(1);
    expect(result).to.include({ transferId: rows[0]?.transfer_id, amount: '25.00', replayed: true });
    expect(await balance()).to.equal('975.00');
    const [first, retry] = proxy.transfers();
    expect([first?.plan, retry?.plan]).to.deep.equal(['cut after commit', 'forward']);
    expect(retry?.headers['idempotency-key']).to.equal(first?.headers['idempotency-key']).and.equal(result.idempotencyKey);
    expect(retry?.headers['transfer-signature']).to.be.a('string').and.equal(first?.headers['transfer-signature']);
    // Each try proves possession anew: a DPoP proof is good once.
    expect(jwsParts(String(retry?.headers.dpop)).payload.jti).not.to.equal(jwsParts(String(first?.headers.dpop)).payload.jti);
  });

  it('retries after a 503, with the same key and signature, and books once', async () => {
    failures.set(1, 'answer 503');
    failures.set(2, 'answer 503');
    const alice = client();
    await alice.login(ALICE.account, ALICE.pin);
    const result = await alice.transfer(transfer);
    expect(result.replayed).to.equal(false);
    expect(await booked()).to.have.length(1);
    const tries = proxy.transfers();
    expect(tries.map((t) => t.plan)).to.deep.equal(['answer 503', 'answer 503', 'forward']);
    expect(new Set(tries.map((t) => t.headers['idempotency-key'])).size).to.equal(1);
    expect(new Set(tries.map((t) => t.headers['transfer-signature'])).size).to.equal(1);
  });

  it('retries after a load balancer\'s 502 (its instance died mid-request), and gets the original booking back', async () => {
    failures.set(1, 'gateway 502 after commit');
    const alice = client();
    await alice.login(ALICE.account, ALICE.pin);
    const result = await alice.transfer(transfer);
    expect(result.replayed).to.equal(true);
    expect(await booked()).to.have.length(1);
    expect(proxy.transfers().map((t) => t.plan)).to.deep.equal(['gateway 502 after commit', 'forward']);
    expect(await balance()).to.equal('975.00');
  });

  it('gives up after its tries with the idempotency key, which finishes the transfer later without booking it twice', async () => {
    for (const n of [1, 2, 3]) failures.set(n, 'cut after commit');
    const alice = client(3);
    await alice.login(ALICE.account, ALICE.pin);
    let failed: unknown;
    await alice.transfer(transfer).catch((error: unknown) => { failed = error; });
    expect(failed).to.be.instanceOf(NetworkError);
    const key = failed instanceof NetworkError ? failed.idempotencyKey : undefined;
    expect(key).to.be.a('string');
    expect(await booked(), 'booked by the first try').to.have.length(1);
    const later = await alice.transfer({ ...transfer, idempotencyKey: key });
    expect(later).to.include({ replayed: true, idempotencyKey: key });
    expect(await booked()).to.have.length(1);
    expect(await balance()).to.equal('975.00');
  });

  it('reports a 503 that lasts as ServiceUnavailable, with Retry-After', async () => {
    for (const n of [1, 2]) failures.set(n, 'answer 503');
    const alice = client(2);
    await alice.login(ALICE.account, ALICE.pin);
    let failed: unknown;
    await alice.transfer(transfer).catch((error: unknown) => { failed = error; });
    expect(failed).to.be.instanceOf(ServiceUnavailable);
    expect(failed).to.include({ status: 503, code: 'host_unavailable', retryAfterSeconds: 1 });
    expect(await booked()).to.deep.equal([]);
  });
});
