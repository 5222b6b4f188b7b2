// What an operator reads when a start cannot go ahead, or goes ahead in a way
// they should know about: the line names the thing and the next step.
import { expect } from 'chai';
import { createServer, type Server } from 'node:net';
import { Writable } from 'node:stream';
import { createLogger } from '../../app/logger.js';
import { start } from '../../app/server.js';
import { testConfig } from '../support/app.js';
import { sharedHost, TEST_PIN_PEPPER, TEST_SECRET } from '../support/host.js';

/** A loopback port something else already listens on. */
async function takenPort(): Promise<{ port: number; server: Server }> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

/** A logger writing into an array of parsed lines. */
function capturedLogger(): { logger: ReturnType<typeof createLogger>; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write(chunk, _encoding, done) { lines.push(JSON.parse(String(chunk)) as Record<string, unknown>); done(); } });
  return { logger: createLogger('info', sink), lines };
}

describe('start-up messages', function () {
  this.timeout(60_000);

  it('a port in use names the API listener and PORT', async () => {
    const taken = await takenPort();
    try {
      const starting = start(testConfig({ PORT: String(taken.port), METRICS_PORT: 'off' }), { host: await sharedHost(), logger: createLogger('silent'), purge: false });
      await expectRejection(starting, `the API cannot listen on 127.0.0.1:${taken.port}: the port is in use (another instance?); set PORT to another port`);
    } finally {
      taken.server.close();
    }
  });

  it('a metrics port in use names the metrics listener, METRICS_PORT and how to turn it off', async () => {
    const taken = await takenPort();
    try {
      const starting = start(testConfig({ PORT: '0', METRICS_PORT: String(taken.port) }), { host: await sharedHost(), logger: createLogger('silent'), purge: false });
      await expectRejection(starting,
        `the metrics listener cannot listen on 127.0.0.1:${taken.port}: the port is in use (another instance?); set METRICS_PORT to another port, or METRICS_PORT=off for none`);
    } finally {
      taken.server.close();
    }
  });

  it('production on the embedded host warns that it is for development and demos, naming DB_URL', async () => {
    const { logger, lines } = capturedLogger();
    const running = await start(testConfig({
      NODE_ENV: 'production', PORT: '0', METRICS_PORT: 'off', DB_URL: 'pglite:memory', REDIS_URL: '',
      JWT_SECRET: TEST_SECRET, PIN_PEPPER: TEST_PIN_PEPPER, PUBLIC_ORIGIN: 'https://api.bank.example',
    }), { host: await sharedHost(), logger, purge: false });
    try {
      const warning = lines.find((line) => String(line.msg).startsWith('production on the embedded host'));
      expect(warning?.level, JSON.stringify(lines)).to.equal(40);
      expect(warning?.msg).to.equal('production on the embedded host: it is for development and demos (one process, no replica); '
        + 'set DB_URL to your Db2 or PostgreSQL host');
    } finally {
      await running.stop();
    }
  });

  it('development on the embedded host says nothing of the kind', async () => {
    const { logger, lines } = capturedLogger();
    const running = await start(testConfig({ PORT: '0', METRICS_PORT: 'off', DB_URL: 'pglite:memory', JWT_SECRET: TEST_SECRET, PIN_PEPPER: TEST_PIN_PEPPER }),
      { host: await sharedHost(), logger, purge: false });
    await running.stop();
    expect(lines.map((line) => line.msg)).to.include('listening');
    expect(lines.filter((line) => String(line.msg).startsWith('production on')), 'no production warning').to.deep.equal([]);
  });
});

async function expectRejection(promise: Promise<unknown>, message: string): Promise<void> {
  const outcome = await promise.then(() => null, (error: unknown) => error);
  expect(outcome, 'the start should have failed').to.be.instanceOf(Error);
  expect((outcome as Error).message).to.equal(message);
}
