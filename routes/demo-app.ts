// /app: a mobile-sized demo of the client kit (client/), served in development
// only: its page, its stylesheet and the client's compiled ES modules, under a
// content security policy of its own (scripts from this origin, none inline).
import type Router from '@koa/router';
import type { Context } from 'koa';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { problem } from '../contract/problems.js';

/**
 * Nothing inline and nothing from elsewhere; the page talks to this origin
 * only, and Trusted Types keep any script from writing HTML from strings.
 */
const POLICY = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'",
  "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'", "require-trusted-types-for 'script'",
].join('; ');

/** The page's own files. */
const PAGE_FILES = new Map([
  ['/app', { file: 'demo/index.html', type: 'text/html; charset=utf-8' }],
  ['/app/app.css', { file: 'demo/app.css', type: 'text/css; charset=utf-8' }],
  ['/app/icon.svg', { file: 'demo/icon.svg', type: 'image/svg+xml' }],
]);
/** Compiled modules: /app/js/src/<name>.js (the client) and /app/js/demo/<name>.js (the page's script). */
const MODULE_FOLDERS = new Set(['src', 'demo']);
const MODULE_NAME = /^[a-z0-9-]+\.js$/;
const PAGE_SCRIPT = 'dist/demo/app.js';


/** The client package's folder, through its workspace link (the same from routes/ and from dist/routes/). */
function clientFolder(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve('@host-session/client/package.json'));
  } catch {
    throw problem('client_not_built');
  }
}

/** A file of the client package, or null when there is none. */
async function clientFile(file: string): Promise<Buffer | null> {
  try {
    return await readFile(join(clientFolder(), file));
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return null;
    throw error;
  }
}

function serve(ctx: Context, content: Buffer, type: string): void {
  ctx.body = content;
  ctx.type = type;
  ctx.set('Content-Security-Policy', POLICY);
  // Development only: always the files as they are on disk now, after a rebuild.
  ctx.set('Cache-Control', 'no-cache');
}

export function mountDemoApp(router: Router): void {
  for (const [path, { file, type }] of PAGE_FILES) {
    router.get(path, async (ctx) => {
      // The page without its compiled script would show a form that does nothing: say what is missing.
      if (path === '/app' && !await clientFile(PAGE_SCRIPT)) throw problem('client_not_built');
      const content = await clientFile(file);
      if (content) serve(ctx, content, type);
    });
  }
  router.get('/app/js/:folder/:name', async (ctx) => {
    const { folder = '', name = '' } = ctx.params;
    if (!MODULE_FOLDERS.has(folder) || !MODULE_NAME.test(name)) return; // falls through to 404
    const content = await clientFile(join('dist', folder, name));
    if (content) serve(ctx, content, 'text/javascript; charset=utf-8');
  });
}
