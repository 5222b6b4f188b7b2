// /app in a real browser: the client kit's demo page logs in, shows balances,
// sends transfers (one above the step-up amount, with the PIN again), ends
// another device's session, shows idle expiry and logs out, with a device key made in the browser (non-extractable, in IndexedDB)
// whose private half never appears in any request.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { BankClient, SessionExpired } from '../../client/src/index.js';
import { ALICE, BOB, startApp, type TestApp } from '../support/app.js';
import { launchChromium } from '../support/browser.js';
import { hostRows, resetHost } from '../support/host.js';

const ROOT = new URL('../../', import.meta.url);
const PUBLIC_JWK_MEMBERS = ['crv', 'kty', 'x', 'y'];

interface Sent {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | null;
}

function jwsHeader(jws: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jws.split('.')[0] ?? '', 'base64url').toString()) as Record<string, unknown>;
}

/** Every object anywhere inside a JSON value that has a member `d` (a private JWK would). */
function withPrivateMember(value: unknown): unknown[] {
  if (Array.isArray(value)) return value.flatMap(withPrivateMember);
  if (value === null || typeof value !== 'object') return [];
  return [...('d' in value ? [value] : []), ...Object.values(value).flatMap(withPrivateMember)];
}

describe('GET /app: the client kit\u2019s demo page (headless Chromium)', function () {
  this.timeout(120_000);
  let api: TestApp;
  let browser: Browser;

  before(async function () {
    browser = await launchChromium(this);
    // The page runs the compiled client: build it from the sources under test.
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    await promisify(execFile)(process.execPath, [tsc, '-p', 'client'], { cwd: ROOT });
    api = await startApp();
  });
  after(async () => {
    await browser?.close();
    await api?.close();
  });

  it('serves the page under its own strict CSP, and only the compiled client and page modules', async () => {
    const page = await api.request('GET', '/app');
    expect(page.status).to.equal(200);
    expect(page.headers.get('content-type')).to.match(/^text\/html/);
    const policy = page.headers.get('content-security-policy') ?? '';
    expect(policy.split('; ')).to.include.members(["default-src 'none'", "script-src 'self'", "connect-src 'self'", "require-trusted-types-for 'script'"]);
    expect(policy).not.to.include('unsafe');
    expect(page.text).not.to.match(/<script>|<script [^>]*>[^<]/); // no inline script
    const module = await api.request('GET', '/app/js/src/bank-client.js');
    expect(module.status).to.equal(200);
    expect(module.headers.get('content-type')).to.match(/^text\/javascript/);
    for (const path of ['/app/js/src/..%2F..%2Fpackage.json', '/app/js/dist/index.js', '/app/js/src/index.d.ts', '/app/js/src/missing.js']) {
      const refused = await api.request('GET', path);
      expect(refused.status, path).to.equal(404);
      expect(refused.body.code, path).to.equal('not_found');
    }
    expect((await api.request('GET', '/health/live')).headers.get('content-security-policy')).to.equal("default-src 'none';frame-ancestors 'none'");
  });

  describe('a customer on a phone-sized screen', () => {
    let context: BrowserContext;
    let page: Page;
    const sent: Promise<Sent>[] = [];
    const answered: { status: number; url: string }[] = [];
    const errors: string[] = [];
    const outside: string[] = [];

    /** The page's clock reads the app's test clock: proofs are dated as the service expects. */
    const syncClock = () => page.clock.setFixedTime(api.clock.now);
    const text = (selector: string) => page.locator(selector).innerText();
    /** What the customer reads now: the one notice, whole, and whether it is on screen where the page is scrolled. */
    const notice = () => page.locator('#notice').evaluate((element) => {
      const { top, bottom } = element.getBoundingClientRect();
      return { text: element.textContent, onScreen: element.checkVisibility() && top >= 0 && bottom <= innerHeight };
    });

    before(async () => {
      await resetHost();
      context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
      page = await context.newPage();
      page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
      page.on('pageerror', (error) => errors.push(error.message));
      page.on('request', (request) => {
        sent.push(request.allHeaders().then((headers) => ({ method: request.method(), url: request.url(), headers, body: request.postData() })));
      });
      page.on('response', (response) => answered.push({ status: response.status(), url: response.url() }));
      await page.route('**/*', (route) => {
        if (route.request().url().startsWith(api.url)) return route.continue();
        outside.push(route.request().url());
        return route.abort();
      });
      await syncClock();
    });
    after(() => context?.close());

    it('makes the device key in the browser, non-extractable, kept in IndexedDB', async () => {
      await page.goto(`${api.url}/app`);
      await page.waitForSelector('#device-key[data-thumbprint]');
      const stored = await page.evaluate(async () => {
        const db = await new Promise<IDBDatabase>((resolve, reject) => {
          const opening = indexedDB.open('host-session-client');
          opening.onsuccess = () => resolve(opening.result);
          opening.onerror = () => reject(opening.error);
        });
        const pair = await new Promise<{ privateKey: CryptoKey; publicKey: CryptoKey }>((resolve, reject) => {
          const reading = db.transaction('device-keys').objectStore('device-keys').get('device');
          reading.onsuccess = () => resolve(reading.result);
          reading.onerror = () => reject(reading.error);
        });
        db.close();
        const exported = await crypto.subtle.exportKey('jwk', pair.privateKey).then(() => 'exported', (error: Error) => error.name);
        return { extractable: pair.privateKey.extractable, usages: pair.privateKey.usages, algorithm: pair.privateKey.algorithm.name, exported };
      });
      expect(stored).to.deep.equal({ extractable: false, usages: ['sign'], algorithm: 'ECDSA', exported: 'InvalidAccessError' });
    });

    it('logs in bound to that key, and shows the balances', async () => {
      const thumbprint = await page.locator('#device-key').getAttribute('data-thumbprint');
      await page.fill('#login-form input[name=account]', ALICE.account);
      await page.fill('#login-form input[name=pin]', ALICE.pin);
      await page.fill('#login-form input[name=device]', 'Alice\u2019s browser');
      await page.click('#login-form button[type=submit]');
      await page.waitForSelector('#accounts li[data-account="100000002"]');
      expect(await text(`#accounts li[data-account="${ALICE.account}"] .amount`)).to.equal('1000.00 EUR');
      expect(await hostRows('SELECT jkt, device FROM host_session')).to.deep.equal([{ jkt: thumbprint, device: 'Alice\u2019s browser' }]);
      expect(await text('#idle')).to.match(/^Ends after inactivity at .+ \(in 5:00\)\.$/);
    });

    it('sends a signed transfer, asks for the PIN again above the step-up amount, and says why one is refused', async () => {
      await page.selectOption('#transfer-form select[name=fromAccount]', ALICE.account);
      expect(await page.locator('#step-up').isVisible(), 'the PIN is asked for only when needed').to.equal(false);
      await page.fill('#transfer-form input[name=toAccount]', BOB.account);
      await page.fill('#transfer-form input[name=amount]', '25.00');
      await page.fill('#transfer-form input[name=reference]', 'lunch');
      await page.click('#transfer-form button[type=submit]');
      await page.waitForSelector('#notice:has-text("Sent 25.00 EUR to 200000001.")');
      await page.waitForSelector(`#accounts li[data-account="${ALICE.account}"] .amount:has-text("975.00 EUR")`);
      expect(await hostRows("SELECT detail FROM audit_log WHERE event = 'transfer' AND outcome = 'ok'")).to.have.length(1);

      await page.fill('#transfer-form input[name=toAccount]', BOB.account);
      await page.fill('#transfer-form input[name=amount]', '1500.00');
      await page.click('#transfer-form button[type=submit]');
      await page.waitForSelector('#notice:has-text("This amount needs your PIN again.")');
      expect(await page.locator('#step-up').isVisible()).to.equal(true);
      expect(await page.evaluate(() => document.activeElement?.getAttribute('name'))).to.equal('pin');
      await page.fill('#transfer-form input[name=pin]', ALICE.pin);
      await page.click('#transfer-form button[type=submit]');
      await page.waitForSelector('#notice:has-text("The source account cannot cover this amount.")');
      expect(await page.inputValue('#transfer-form input[name=pin]'), 'the PIN does not stay in the form').to.equal('');
    });

    it('shows only the latest notice, on screen: each action replaces the one before', async () => {
      expect(await notice()).to.deep.equal({ text: 'The source account cannot cover this amount.', onScreen: true });
      const shown = await page.locator('main').innerText();
      expect(shown).not.to.include('Sent 25.00').and.not.to.include('needs your PIN again');
      expect(await page.locator('[role=status]').count(), 'one place for notices').to.equal(1);
    });

    it('sends more than the step-up amount from savings, with the PIN again', async () => {
      // The demo data (db/demo-data.ts) gives Alice's savings 5000.00: enough for a stepped-up transfer.
      expect(await text('#step-up-hint')).to.include('PIN again');
      expect(await text('#accounts li[data-account="100000002"] .amount')).to.equal('5000.00 EUR');
      await page.selectOption('#transfer-form select[name=fromAccount]', '100000002');
      await page.fill('#transfer-form input[name=toAccount]', BOB.account);
      await page.fill('#transfer-form input[name=amount]', '1500.00');
      await page.fill('#transfer-form input[name=pin]', ALICE.pin);
      await page.evaluate(() => scrollTo(0, document.body.scrollHeight)); // scrolled down, as on a phone: the notice still shows
      await page.click('#transfer-form button[type=submit]');
      await page.waitForSelector('#accounts li[data-account="100000002"] .amount:has-text("3500.00 EUR")');
      expect(await page.inputValue('#transfer-form select[name=fromAccount]'), 'the source stays chosen').to.equal('100000002');
      expect(await notice()).to.deep.equal({ text: 'Sent 1500.00 EUR to 200000001.', onScreen: true });
      expect(await page.locator('#step-up').isVisible(), 'the PIN is asked for again only when needed').to.equal(false);
      expect(await text(`#accounts li[data-account="${ALICE.account}"] .amount`)).to.equal('975.00 EUR');
      expect(await hostRows("SELECT detail FROM audit_log WHERE event = 'transfer' AND outcome = 'ok'")).to.have.length(2);
    });

    it('lists the devices and ends another one\u2019s session', async () => {
      const laptop = new BankClient({ baseUrl: api.url, now: api.clock.read });
      await laptop.login(ALICE.account, ALICE.pin, { deviceLabel: 'Alice\u2019s laptop' });
      await page.reload(); // the key stays in IndexedDB; the session lived in the page, so log in again
      await page.fill('#login-form input[name=account]', ALICE.account);
      await page.fill('#login-form input[name=pin]', ALICE.pin);
      await page.click('#login-form button[type=submit]');
      const other = page.locator('#devices li', { hasText: 'Alice\u2019s laptop' });
      await other.waitFor();
      expect(await page.locator('#devices li[data-current=true]').innerText()).to.include('this device');
      await other.locator('button').click();
      await other.waitFor({ state: 'detached' });
      let refused: unknown;
      await laptop.accounts().catch((error: unknown) => { refused = error; });
      expect(refused).to.be.instanceOf(SessionExpired);
    });

    it('shows idle expiry when the session has been idle too long, and the service agrees', async () => {
      api.clock.advance(301);
      await syncClock();
      await page.waitForSelector('#notice:has-text("Your session has ended")');
      expect(await page.locator('#login-view').isVisible()).to.equal(true);
      const check = new BankClient({ baseUrl: api.url, now: api.clock.read });
      await check.login(ALICE.account, ALICE.pin, { deviceLabel: 'check' });
      expect((await check.sessions()).map((s) => s.device)).to.deep.equal(['check']);
      await check.logout();
    });

    it('logs in again with the same device key after a reload, and logs out', async () => {
      const thumbprint = await page.locator('#device-key').getAttribute('data-thumbprint');
      await page.reload();
      await page.waitForSelector('#device-key[data-thumbprint]');
      expect(await page.locator('#device-key').getAttribute('data-thumbprint')).to.equal(thumbprint);
      await page.fill('#login-form input[name=account]', ALICE.account);
      await page.fill('#login-form input[name=pin]', ALICE.pin);
      await page.click('#login-form button[type=submit]');
      await page.waitForSelector('#home-view:visible');
      await page.click('#logout');
      await page.waitForSelector('#notice:has-text("Logged out.")');
      const live = await hostRows('SELECT jkt FROM host_session WHERE idle_expires_at > $1', [api.clock.now.toISOString()]);
      expect(live).to.deep.equal([]);
    });

    it('never sent the private key: every proof carries a public JWK only, no body holds a member d', async () => {
      const requests = await Promise.all(sent);
      expect(outside).to.deep.equal([]);
      const api_ = requests.filter((r) => new URL(r.url).pathname.startsWith('/api/'));
      expect(api_.length).to.be.greaterThan(10);
      for (const request of api_) {
        const proof = request.headers.dpop;
        expect(proof, `${request.method} ${request.url} carries a proof`).to.be.a('string');
        const header = jwsHeader(proof ?? '');
        expect(header.typ).to.equal('dpop+jwt');
        expect(Object.keys(header.jwk ?? {}).sort()).to.deep.equal(PUBLIC_JWK_MEMBERS);
        const signature = request.headers['transfer-signature'];
        if (signature) expect(jwsHeader(signature)).to.deep.equal({ typ: 'transfer+jwt', alg: 'ES256' });
        if (request.body) expect(withPrivateMember(JSON.parse(request.body)), request.url).to.deep.equal([]);
      }
      expect(api_.filter((r) => r.headers['transfer-signature']), 'four transfers: booked, step-up asked, refused, booked with the PIN')
        .to.have.length(4);
    });

    it('logged no error but the refusals it asked for', async () => {
      // Chromium logs every 4xx fetch; these are the nonce challenges, the step-up and the refused transfer.
      const loaded = /^Failed to load resource: the server responded with a status of (\d+)/;
      expect(errors.filter((e) => !loaded.test(e)), errors.join('\n')).to.deep.equal([]);
      const statuses = [...new Set(answered.filter((a) => a.status >= 400).map((a) => a.status))].sort();
      expect(statuses).to.deep.equal([401, 403, 409]);
    });
  });
});
