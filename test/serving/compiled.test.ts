// The production start: the compiled JavaScript of `npm run build` under plain
// node (no TypeScript loader), with production's defaults, and no
// development tool among the production dependencies. The build runs in a
// folder holding only what the Dockerfile's build stage copies (no Docker
// daemon here to build the image itself), so a file the build needs and the
// Dockerfile leaves out fails here, not at a customer's `docker build`.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { spawnPlain, type Child } from '../support/child.js';
import { request } from '../support/app.js';

/** The sources the Dockerfile's build stage copies (`COPY <source>... <destination>`, none --from another stage). */
function buildStageCopies(): { sources: string[]; destination: string }[] {
  const dockerfile = readFileSync('Dockerfile', 'utf8');
  const stage = /^FROM \S+ AS build\n([\s\S]*?)^FROM /m.exec(dockerfile)?.[1];
  if (!stage) throw new Error('the Dockerfile has no build stage (FROM … AS build)');
  return stage.split('\n').filter((line) => /^COPY (?!--)/.test(line)).map((line) => {
    const words = line.split(/\s+/).slice(1);
    return { sources: words.slice(0, -1), destination: words.at(-1) ?? '.' };
  });
}

/** Whether .dockerignore keeps `path` out of the build context (its patterns here: paths, and `*` within one segment). */
function ignoredByDocker(): (path: string) => boolean {
  const patterns = readFileSync('.dockerignore', 'utf8').split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#'))
    .map((pattern) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '[^/]*')}(/|$)`));
  return (path) => patterns.some((pattern) => pattern.test(path));
}

/** A folder laid out as the build stage's /app before `npm run build`, node_modules linked from here. */
function dockerBuildContext(): string {
  const folder = mkdtempSync(join(tmpdir(), 'docker-build-stage-'));
  const ignored = ignoredByDocker();
  for (const { sources, destination } of buildStageCopies()) {
    for (const source of sources) {
      const target = destination.endsWith('/') ? join(folder, destination, source.split('/').at(-1) ?? source) : join(folder, destination);
      cpSync(source, target, { recursive: true, filter: (path) => !ignored(relative('.', path)) });
    }
  }
  symlinkSync(resolve('node_modules'), join(folder, 'node_modules'));
  return folder;
}

describe('the production start (compiled JavaScript, NODE_ENV=production)', function () {
  this.timeout(240_000); // a bound for a busy machine; every step waits on an event
  let child: Child | undefined;
  let context: string | undefined;
  after(async () => {
    child?.kill();
    await child?.exited;
    if (context) rmSync(context, { recursive: true, force: true });
  });

  it('keeps tsx and esbuild out of the production dependencies', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies).not.to.have.any.keys('tsx', 'esbuild', 'typescript');
  });

  it('builds from what the Dockerfile copies, and serves from dist/ under plain node, binding every session to a device by default', async () => {
    context = dockerBuildContext();
    execFileSync('npm', ['run', '-s', 'build'], { cwd: context, stdio: ['ignore', 'ignore', 'pipe'] });
    child = spawnPlain([join(context, 'dist/app/server.js')], {
      NODE_ENV: 'production', PORT: '0', DB_URL: 'pglite:memory', METRICS_PORT: '0', LOG_LEVEL: 'info',
      JWT_SECRET: 'compiled-test-secret-0123456789abcdefghij', PIN_PEPPER: 'compiled-test-pepper-0123456789abcdefghij',
      PUBLIC_ORIGIN: 'https://api.bank.example', REDIS_URL: '',
    });
    const listening = JSON.parse(await child.waitFor(/"msg":"listening"/)) as { url: string };
    expect(await child.waitFor(/REDIS_URL is not set/), 'production without Redis says what is shared').to.match(/"level":40/);
    expect((await request(listening.url, 'GET', '/health/ready')).status).to.equal(200);
    const login = await request(listening.url, 'POST', '/api/auth/login', { body: { account: '100000001', pin: '12345' } });
    expect(login.status).to.equal(401);
    expect(login.body.code).to.equal('dpop_required');
    expect((await request(listening.url, 'GET', '/app')).status, 'no demo page in production').to.equal(404);
    child.process.kill('SIGTERM');
    expect(await child.exited).to.equal(0);
  });

  it('builds the embedded host\u2019s template under plain node, as the Docker image does', () => {
    if (!context) throw new Error('no build');
    const output = execFileSync('node', [join(context, 'dist/db/pg/template-cli.js')], { encoding: 'utf8' });
    expect(output).to.match(/^embedded host template (built|present): \S+node_modules\/\.cache\/host-session\/pglite-\d+\.\d+\.\d+\n$/);
  });
});
