// /docs in a real browser: Swagger UI renders every operation, styled, with
// no console errors, from assets this service serves itself (no CDN); Try it
// out starts from the demo login; a service that requires device-bound
// sessions says on the page what Try it out cannot do.
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { startApp, type TestApp } from '../support/app.js';
import { launchChromium } from '../support/browser.js';
import { resetHost } from '../support/host.js';

describe('GET /docs (headless Chromium)', function () {
  this.timeout(60_000);
  let api: TestApp;
  let browser: Browser;

  /** A page whose console errors and requests outside `app` are recorded (and the latter refused). */
  async function openDocs(app: TestApp): Promise<{ page: Page; errors: string[]; outside: string[] }> {
    const page = await browser.newPage();
    const errors: string[] = [];
    const outside: string[] = [];
    page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
    page.on('pageerror', (error) => errors.push(error.message));
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(app.url)) return route.continue();
      outside.push(url);
      return route.abort();
    });
    const response = await page.goto(`${app.url}/docs`);
    expect(response?.status()).to.equal(200);
    await page.waitForSelector('.opblock', { timeout: 20_000 });
    return { page, errors, outside };
  }

  before(async function () {
    browser = await launchChromium(this);
    await resetHost(); // the demo logins, for Try it out
    api = await startApp();
  });
  after(async () => {
    await browser?.close();
    await api?.close();
  });

  it('renders every operation, styled, with no console errors and no outside requests', async () => {
    const { page, errors, outside } = await openDocs(api);
    try {
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
      await page.close();
    }
  });

  it('fills Try it out of POST /api/auth/login with the demo login, which logs in', async () => {
    const { page, errors } = await openDocs(api);
    try {
      const login = page.locator('#operations-Session-login');
      await login.locator('.opblock-summary').click();
      await login.locator('.try-out__btn').click();
      const body = await login.locator('textarea.body-param__text').inputValue();
      expect(JSON.parse(body)).to.deep.equal({ account: '100000001', pin: '12345' });
      await login.locator('.execute').click();
      const status = login.locator('.live-responses-table tbody .response-col_status');
      await status.waitFor();
      expect(await status.innerText()).to.equal('201');
      expect(errors, errors.join('\n')).to.deep.equal([]);
    } finally {
      await page.close();
    }
  });

  it('with SESSION_BINDING=required, says at the top that Try it out cannot sign DPoP proofs, and offers no Bearer', async () => {
    const bound = await startApp({ SESSION_BINDING: 'required' });
    const { page, errors, outside } = await openDocs(bound);
    try {
      const info = await page.locator('.information-container .info').innerText();
      expect(info).to.include('This service requires device-bound sessions')
        .and.to.include('Try it out cannot sign DPoP proofs').and.to.include('@host-session/client');
      await page.locator('.btn.authorize').click();
      const dialog = await page.locator('.auth-container').allInnerTexts();
      expect(dialog.join('\n')).to.include('dpopAuth').and.not.to.include('bearerAuth');
      expect(await page.locator('#auth-bearer-value').count(), 'no field to paste a bearer token into').to.equal(0);
      expect(errors, errors.join('\n')).to.deep.equal([]);
      expect(outside).to.deep.equal([]);
    } finally {
      await page.close();
      await bound.close();
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
