// /docs in a real browser: Swagger UI renders every operation, styled, with
// no console errors, from assets this service serves itself (no CDN).
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { startApp, type TestApp } from '../support/app.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('GET /docs (headless Chromium)', function () {
  this.timeout(60_000);
  let api: TestApp;

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      console.log(`      (skipped: no Chromium at ${CHROMIUM}; install Debian's chromium or set CHROMIUM_PATH)`);
      this.skip();
    }
    api = await startApp();
  });
  after(() => api?.close());

  it('renders every operation, styled, with no console errors and no outside requests', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      const outside: string[] = [];
      page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
      page.on('pageerror', (error) => errors.push(error.message));
      await page.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith(api.url)) return route.continue();
        outside.push(url);
        return route.abort();
      });
      const response = await page.goto(`${api.url}/docs`);
      expect(response?.status()).to.equal(200);
      await page.waitForSelector('.opblock', { timeout: 20_000 });
      const operations = await page.locator('.opblock').count();
      const document = await (await fetch(`${api.url}/openapi.json`)).json() as { paths: Record<string, object> };
      const expected = Object.values(document.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
      expect(operations).to.equal(expected);
      const getBadge = await page.locator('.opblock-get .opblock-summary-method').first()
        .evaluate((element) => getComputedStyle(element).backgroundColor);
      expect(getBadge).to.equal('rgb(97, 175, 254)'); // Swagger UI's GET blue: the stylesheet loaded
      expect(errors, errors.join('\n')).to.deep.equal([]);
      expect(outside).to.deep.equal([]);
    } finally {
      await browser.close();
    }
  });

  it('serves /docs under its own CSP that allows only its inline script', async () => {
    const docs = await api.request('GET', '/docs');
    const policy = docs.headers.get('content-security-policy') ?? '';
    expect(policy).to.match(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
    expect(policy).not.to.include('unsafe-inline\'; script').and.not.to.match(/script-src[^;]*unsafe-inline/);
    const api2 = await api.request('GET', '/health/live');
    expect(api2.headers.get('content-security-policy')).to.equal("default-src 'none';frame-ancestors 'none'");
  });
});
