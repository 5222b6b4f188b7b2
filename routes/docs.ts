// /openapi.json and /docs: Swagger UI served from the installed swagger-ui-dist
// (no CDN), under a content security policy of its own that allows exactly
// its one inline script; every other route keeps helmet's strict policy.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { koaSwagger } from 'koa2-swagger-ui';
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const distDir = dirname(require.resolve('swagger-ui-dist/package.json'));
const ASSET_PREFIX = '/docs/assets';

/** koa2-swagger-ui asks for swagger-ui.min.css; swagger-ui-dist ships swagger-ui.css. */
const ASSETS: Record<string, { file: string; type: string }> = {
  'swagger-ui-bundle.js': { file: 'swagger-ui-bundle.js', type: 'application/javascript' },
  'swagger-ui-standalone-preset.js': { file: 'swagger-ui-standalone-preset.js', type: 'application/javascript' },
  'swagger-ui.min.css': { file: 'swagger-ui.css', type: 'text/css' },
  'favicon-32x32.png': { file: 'favicon-32x32.png', type: 'image/png' },
};

function renderDocsPage(version: string): string {
  const middleware = koaSwagger({
    title: 'Host session API',
    routePrefix: '/docs',
    swaggerCdnUrl: ASSET_PREFIX,
    swaggerVersion: version,
    favicon: `${ASSET_PREFIX}/${version}/favicon-32x32.png`,
    hideTopbar: true,
    swaggerOptions: { url: '/openapi.json', persistAuthorization: false },
  });
  const ctx = { path: '/docs', body: '', type: '' } as unknown as Context;
  void middleware(ctx, async () => undefined);
  return String(ctx.body);
}

function contentSecurityPolicy(html: string): string {
  const hashes = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)]
    .map(([, script]) => `'sha256-${createHash('sha256').update(script).digest('base64')}'`);
  return [
    "default-src 'self'", `script-src 'self' ${hashes.join(' ')}`, "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:", "font-src 'self' data:", "connect-src 'self'", "object-src 'none'",
    "base-uri 'none'", "frame-ancestors 'none'", "form-action 'none'",
  ].join('; ');
}

export function mountDocs(router: Router, document: object): void {
  const version = (JSON.parse(readFileSync(join(distDir, 'package.json'), 'utf8')) as { version: string }).version;
  const html = renderDocsPage(version);
  const policy = contentSecurityPolicy(html);
  const documentJson = JSON.stringify(document);

  router.get('/openapi.json', (ctx) => {
    ctx.type = 'application/json';
    ctx.body = documentJson;
  });
  router.get('/docs', (ctx) => {
    ctx.set('Content-Security-Policy', policy);
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = html;
  });
  router.get(`${ASSET_PREFIX}/:version/:name`, (ctx) => {
    const asset = ASSETS[ctx.params.name];
    if (!asset || ctx.params.version !== version) return; // falls through to 404
    ctx.set('Cache-Control', 'public, max-age=86400, immutable');
    ctx.type = asset.type;
    ctx.body = createReadStream(join(distDir, asset.file));
  });
}
