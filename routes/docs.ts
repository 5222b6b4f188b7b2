// /openapi.json and /docs: Swagger UI served from the installed swagger-ui-dist
// (no CDN, no web fonts: the page makes no request outside this service),
// under a content security policy of its own that allows exactly its one
// inline script; every other route keeps helmet's strict policy.
import type Router from '@koa/router';
import type { Context, Next } from 'koa';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const distDir = dirname(require.resolve('swagger-ui-dist/package.json'));
const ASSET_PREFIX = '/docs/assets';

/**
 * koa2-swagger-ui 5.12's template (dist/index.hbs) links
 * `<swaggerCdnUrl>/<swaggerVersion>/swagger-ui.min.css`, a name no option
 * changes, and swagger-ui-dist 5.35 ships only swagger-ui.css. Unmapped, that
 * link gets our 404 (problem+json), Chromium refuses it as a stylesheet (one
 * console error) and the page renders every operation unstyled.
 */
const ASSETS = new Map<string, { file: string; type: string }>([
  ['swagger-ui-bundle.js', { file: 'swagger-ui-bundle.js', type: 'application/javascript' }],
  ['swagger-ui-standalone-preset.js', { file: 'swagger-ui-standalone-preset.js', type: 'application/javascript' }],
  ['swagger-ui.min.css', { file: 'swagger-ui.css', type: 'text/css' }],
  ['favicon-32x32.png', { file: 'favicon-32x32.png', type: 'image/png' }],
]);

/**
 * koa2-swagger-ui 5.12 renders one fixed template (dist/index.hbs, read from
 * its own folder; no option names another), and that template hard-codes
 * `<link href="https://fonts.googleapis.com/css?family=Open+Sans…">`. None of
 * its options drops it: customCSS only adds to an inline <style>, hideTopbar
 * and favicon touch other lines. Left in, Chromium (156) starts a request to
 * fonts.googleapis.com that this page's CSP blocks, with one console error
 * ("Loading the stylesheet … violates … style-src"), and without that CSP
 * the page would load it from Google. Removed, the page uses the system fonts.
 */
function withoutOutsideRequests(html: string): string {
  return html.replace(/<link[^>]*href="https?:\/\/[^"]*"[^>]*>\s*/g, '');
}

function contentSecurityPolicy(html: string): string {
  const hashes = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)]
    .map(([, script = '']) => `'sha256-${createHash('sha256').update(script).digest('base64')}'`);
  return [
    "default-src 'self'", `script-src 'self' ${hashes.join(' ')}`, "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:", "font-src 'self' data:", "connect-src 'self'", "object-src 'none'",
    "base-uri 'none'", "frame-ancestors 'none'", "form-action 'none'",
  ].join('; ');
}

export function mountDocs(router: Router, document: object): void {
  const version = (JSON.parse(readFileSync(join(distDir, 'package.json'), 'utf8')) as { version: string }).version;
  const swaggerOptions = {
    title: 'Host session API',
    routePrefix: '/docs',
    swaggerCdnUrl: ASSET_PREFIX,
    swaggerVersion: version,
    favicon: `${ASSET_PREFIX}/${version}/favicon-32x32.png`,
    hideTopbar: true,
    swaggerOptions: { url: '/openapi.json', persistAuthorization: false },
  };
  const documentJson = JSON.stringify(document);
  // Rendered once, on the first request: the page never changes while the process runs.
  let page: { html: string; policy: string } | undefined;
  // Assets are read whole and kept: a missing or unreadable file is an
  // ordinary error before the response starts, never a stream failing mid-body.
  const assets = new Map<string, Promise<Buffer>>();

  router.get('/openapi.json', (ctx) => {
    ctx.type = 'application/json';
    ctx.body = documentJson;
  });
  router.get('/docs', async (ctx: Context, next: Next) => {
    if (!page) {
      // koa2-swagger-ui (with handlebars) is loaded by the first visit, not by every start.
      const { koaSwagger } = await import('koa2-swagger-ui');
      await koaSwagger(swaggerOptions)(ctx, next);
      const html = withoutOutsideRequests(String(ctx.body));
      page = { html, policy: contentSecurityPolicy(html) };
    }
    ctx.set('Content-Security-Policy', page.policy);
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = page.html;
  });
  router.get(`${ASSET_PREFIX}/:version/:name`, async (ctx) => {
    const asset = ASSETS.get(ctx.params.name ?? '');
    if (!asset || ctx.params.version !== version) return; // falls through to 404
    let content = assets.get(asset.file);
    if (!content) {
      content = readFile(join(distDir, asset.file));
      content.catch(() => assets.delete(asset.file)); // a failed read is retried by the next request
      assets.set(asset.file, content);
    }
    ctx.body = await content;
    ctx.set('Cache-Control', 'public, max-age=86400, immutable');
    ctx.type = asset.type;
  });
}
