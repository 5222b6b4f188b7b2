// The client kit as an app outside this repository gets it: `npm pack` in
// client/, the tarball installed offline into a scratch app in a temporary
// folder, and one device-bound flow (login, accounts, a signed transfer,
// logout) run from that installed copy under plain Node and in headless
// Chromium, against the real service started in-process.
import { expect } from 'chai';
import { execFile, type ExecFileOptions } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { ALICE, BOB, startApp, type TestApp } from '../support/app.js';
import { launchChromium } from '../support/browser.js';
import { hostRows, resetHost } from '../support/host.js';

const CLIENT = new URL('../../client/', import.meta.url).pathname;
const REPOSITORY = new URL('../../', import.meta.url).pathname;
const PACKAGE = '@host-session/client';

/** The scratch app: one flow module that both runners import, as an app's own code would. */
const FLOW = `// The app's flow, through the installed client kit: the same module in Node and in the page.
import { BankClient } from '${PACKAGE}';

export async function flow({ baseUrl, keyStore, clockAt, login, toAccount, deviceLabel }) {
  const bank = new BankClient({ baseUrl, keyStore, now: () => new Date(clockAt) });
  const session = await bank.login(login.account, login.pin, { deviceLabel });
  const balance = async () => (await bank.accounts()).find((account) => account.accountId === login.account).balance;
  const before = await balance();
  const { transferId, amount, replayed } = await bank.transfer({ fromAccount: login.account, toAccount, amount: '25.00' });
  const after = await balance();
  const thumbprint = await bank.deviceThumbprint();
  await bank.logout();
  return { bound: session.bound, thumbprint, before, after, transfer: { transferId, amount, replayed }, loggedOut: bank.session === null };
}
`;
const NODE_RUNNER = `import { MemoryKeyStore } from '${PACKAGE}';
import { flow } from './flow.mjs';

const params = JSON.parse(process.argv[2]);
console.log(JSON.stringify(await flow({ ...params, keyStore: new MemoryKeyStore() })));
`;
/** The page: an import map names the package's entry, as its package.json's exports say; no bundler. */
const page = (entry: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Scratch app</title><link rel="icon" href="data:,">
<script type="importmap">${JSON.stringify({ imports: { [PACKAGE]: entry } })}</script>
<script type="module">
  import { IndexedDbKeyStore } from '${PACKAGE}';
  import { flow } from '/flow.mjs';
  const keyStore = () => new IndexedDbKeyStore({ database: 'scratch-app' });
  window.runFlow = (params) => flow({ ...params, keyStore: keyStore() });
  window.keptKey = async () => (await keyStore().load())?.privateKey.extractable ?? 'none';
</script>
</head><body></body></html>
`;
/** An app's TypeScript: the declarations must resolve by the package's name and check with the DOM library. */
const TYPED_APP = `import { BankClient, MemoryKeyStore, NetworkError, type Account, type TransferResult } from '${PACKAGE}';

const bank = new BankClient({ baseUrl: 'http://127.0.0.1:8080', keyStore: new MemoryKeyStore() });
const accounts: Account[] = await bank.accounts();
const sent: TransferResult = await bank.transfer({ fromAccount: '100000001', toAccount: '200000001', amount: '25.00' });
// @ts-expect-error amounts are decimal strings
await bank.transfer({ fromAccount: '100000001', toAccount: '200000001', amount: 25 });
export const seen: [string | undefined, string, string] = [accounts[0]?.balance, sent.transferId, NetworkError.name];
`;

/** npm and node as an app's developer runs them: none of this run's npm_* settings leak into the scratch app. */
async function run(command: string, args: string[], options: ExecFileOptions): Promise<string> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
  try {
    const { stdout } = await promisify(execFile)(command, args, { env, maxBuffer: 8 << 20, ...options });
    return String(stdout);
  } catch (error) {
    const failed = error as Error & { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${failed.message}\n${failed.stdout ?? ''}\n${failed.stderr ?? ''}`, { cause: error });
  }
}

interface Passed {
  method: string;
  path: string;
  status: number;
  authorization: string;
  proof: boolean;
  transferSignature: boolean;
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.mjs': 'text/javascript', '.js': 'text/javascript', '.json': 'application/json' };

/**
 * The scratch app's web server on 127.0.0.1: its page and modules, the
 * installed package's files from its node_modules, and /api passed on to the
 * service, so the page and the API share one origin (the service sends no
 * CORS headers, and needs none). The Host header goes on as the browser sent
 * it: the service checks each proof's htu against the origin it names.
 */
class Front {
  readonly passed: Passed[] = [];
  readonly served: string[] = [];
  url = '';
  private readonly server = createServer((req, res) => this.handle(req, res));
  /** What the front serves from disk: the page, the flow, and the installed package's own files. */
  private readonly pages: string[];
  private readonly packageFolder: string;

  private constructor(private readonly app: string, private readonly upstream: URL) {
    this.pages = [join(app, 'index.html'), join(app, 'flow.mjs')];
    this.packageFolder = join(app, 'node_modules', PACKAGE) + sep;
  }

  static async start(app: string, service: string): Promise<Front> {
    const front = new Front(app, new URL(service));
    await new Promise<void>((ready) => front.server.listen(0, '127.0.0.1', ready));
    front.url = `http://127.0.0.1:${(front.server.address() as AddressInfo).port}`;
    return front;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://front').pathname;
    if (path.startsWith('/api/')) {
      this.pass(req, res, path);
      return;
    }
    const file = resolve(this.app, `.${decodeURIComponent(path === '/' ? '/index.html' : path)}`);
    if (!this.pages.includes(file) && !file.startsWith(this.packageFolder)) {
      res.writeHead(404).end();
      return;
    }
    this.served.push(path);
    readFile(file).then(
      (content) => res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(content),
      () => res.writeHead(404).end(),
    );
  }

  private pass(req: IncomingMessage, res: ServerResponse, path: string): void {
    const onward = request({ host: this.upstream.hostname, port: this.upstream.port, method: req.method, path: req.url, headers: req.headers });
    onward.on('response', (answer) => {
      this.passed.push({
        method: req.method ?? '', path, status: answer.statusCode ?? 0, authorization: req.headers.authorization?.split(' ')[0] ?? '',
        proof: typeof req.headers.dpop === 'string', transferSignature: typeof req.headers['transfer-signature'] === 'string',
      });
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    onward.on('error', () => res.destroy());
    req.pipe(onward);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((done) => this.server.close(() => done()));
  }
}

interface FlowResult {
  bound: boolean;
  thumbprint: string;
  before: string;
  after: string;
  transfer: { transferId: string; amount: string; replayed: boolean };
  loggedOut: boolean;
}

/** What the page's module puts on window for the test to call. */
interface PageApp {
  runFlow(params: unknown): Promise<FlowResult>;
  keptKey(): Promise<boolean | 'none'>;
}

describe('the packed client kit, installed by an app outside the repository', function () {
  this.timeout(180_000);
  let work: string;
  let app: string;
  let packed: { filename: string; files: { path: string }[] };
  let api: TestApp;
  let front: Front;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'host-session-client-package-'));
    // prepack builds dist/src afresh; --json lists what went into the tarball.
    const report = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: CLIENT });
    [packed] = JSON.parse(report.slice(report.indexOf('['))) as [typeof packed];
    app = join(work, 'app');
    await mkdir(app);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'scratch-app', private: true, type: 'module' }));
    // No dependencies in the tarball, so nothing to fetch: --offline proves it.
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', join(work, packed.filename)], { cwd: app });
    await writeFile(join(app, 'flow.mjs'), FLOW);
    await writeFile(join(app, 'node-run.mjs'), NODE_RUNNER);
    const installed = JSON.parse(await readFile(join(app, 'node_modules', PACKAGE, 'package.json'), 'utf8'));
    const entry = `/node_modules/${PACKAGE}/${installed.exports['.'].import.replace(/^\.\//, '')}`;
    // Binding required: a flow that did not bind its session to a device key could not log in.
    api = await startApp({ SESSION_BINDING: 'required' });
    await writeFile(join(app, 'index.html'), page(entry));
    front = await Front.start(app, api.url);
  });
  after(async () => {
    await front?.close();
    await api?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await resetHost();
    front.passed.length = 0;
    front.served.length = 0;
  });

  /** Through the front, dated by the service's test clock (the service allows a few seconds of skew). */
  const flowParams = (deviceLabel: string) => ({ baseUrl: front.url, clockAt: api.clock.now.toISOString(), login: ALICE, toAccount: BOB.account, deviceLabel });

  /** What every flow must show: bound, signed, booked once, logged out, and only the DPoP scheme on the wire. */
  async function expectFlow(result: FlowResult): Promise<void> {
    expect(result).to.deep.include({ bound: true, before: '1000.00', after: '975.00', loggedOut: true });
    expect(result.transfer).to.deep.include({ amount: '25.00', replayed: false });
    expect(front.passed.map((p) => `${p.method} ${p.path} ${p.status}`)).to.deep.equal([
      'POST /api/auth/login 401', 'POST /api/auth/login 201', 'GET /api/accounts 200', 'POST /api/transfers 201',
      'GET /api/accounts 200', 'DELETE /api/auth/session 204',
    ]);
    expect(front.passed.every((p) => p.proof), 'a DPoP proof on every request').to.equal(true);
    expect(front.passed.slice(2).map((p) => p.authorization)).to.deep.equal(['DPoP', 'DPoP', 'DPoP', 'DPoP']);
    expect(front.passed.filter((p) => p.transferSignature).map((p) => p.path)).to.deep.equal(['/api/transfers']);
    expect(await hostRows("SELECT detail FROM audit_log WHERE event = 'transfer' AND outcome = 'ok'")).to.have.length(1);
    expect(await hostRows('SELECT * FROM host_session')).to.deep.equal([]);
  }

  it('packs compiled ES modules and their declarations for every source module, a README, and nothing else', async () => {
    const sources = (await readdir(join(CLIENT, 'src'))).filter((name) => name.endsWith('.ts')).map((name) => name.slice(0, -3));
    const expected = ['README.md', 'package.json', ...sources.flatMap((name) => [`dist/src/${name}.d.ts`, `dist/src/${name}.js`])];
    expect(packed.files.map((file) => file.path).sort()).to.deep.equal(expected.sort());
    const installed = JSON.parse(await readFile(join(app, 'node_modules', PACKAGE, 'package.json'), 'utf8'));
    expect(installed).to.include({ type: 'module', sideEffects: false }).and.not.to.have.any.keys('dependencies', 'peerDependencies');
    expect(installed.exports['.']).to.deep.equal({ types: './dist/src/index.d.ts', import: './dist/src/index.js', default: './dist/src/index.js' });
    expect(app.startsWith(REPOSITORY)).to.equal(false);
    // A copy in the app's own node_modules, not a link back into the repository; nothing else was installed.
    expect(await realpath(join(app, 'node_modules', PACKAGE))).to.equal(join(await realpath(app), 'node_modules', PACKAGE));
    expect((await readdir(join(app, 'node_modules'))).filter((name) => !name.startsWith('.'))).to.deep.equal(['@host-session']);
  });

  it('type-checks an app\u2019s TypeScript that imports it by name (strict, the DOM library, no skipLibCheck)', async () => {
    await writeFile(join(app, 'app.ts'), TYPED_APP);
    await writeFile(join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022', 'DOM'], types: [], strict: true, noEmit: true },
      files: ['app.ts'],
    }));
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    await run(process.execPath, [tsc, '-p', app], { cwd: app });
  });

  it('runs a device-bound flow from the installed package under plain Node', async () => {
    const output = await run(process.execPath, ['node-run.mjs', JSON.stringify(flowParams('scratch app (Node)'))], { cwd: app });
    await expectFlow(JSON.parse(output) as FlowResult);
    expect(front.served, 'Node read the package from disk, not from the front').to.deep.equal([]);
  });

  describe('in headless Chromium', () => {
    let browser: Browser;

    before(async function () {
      browser = await launchChromium(this);
    });
    after(() => browser?.close());

    it('runs the same flow from a page importing the installed package through an import map', async () => {
      const context = await browser.newContext();
      const tab = await context.newPage();
      const errors: string[] = [];
      // Chromium logs each 4xx answer (the login's nonce challenge) as a console error: the exchanges are checked apart.
      tab.on('console', (message) => { if (message.type() === 'error' && !/^Failed to load resource/.test(message.text())) errors.push(message.text()); });
      tab.on('pageerror', (error) => errors.push(error.message));
      try {
        await tab.goto(`${front.url}/`); // resolves on load, after the page's module has run
        const result = await tab.evaluate((given) => (window as unknown as PageApp).runFlow(given), flowParams('scratch app (Chromium)'));
        await expectFlow(result);
        expect(await tab.evaluate(() => (window as unknown as PageApp).keptKey()), 'a non-extractable key in IndexedDB').to.equal(false);
        expect(errors).to.deep.equal([]);
        expect(front.served).to.include.members(['/', '/flow.mjs', `/node_modules/${PACKAGE}/dist/src/index.js`, `/node_modules/${PACKAGE}/dist/src/key-store.js`]);
        expect(front.served.filter((path) => path.startsWith('/node_modules/')).every((path) => path.endsWith('.js'))).to.equal(true);
      } finally {
        await context.close();
      }
    });
  });
});
