// Work put off to the end of a turn (app/end-of-turn.ts) and its users: done
// in order once the turn ends, never lost at exit, never read stale.
import { expect } from 'chai';
import { atTurnEnd } from '../../app/end-of-turn.js';
import { Metrics } from '../../app/metrics.js';
import { spawnChild } from '../support/child.js';
import { startApp, type TestApp } from '../support/app.js';

describe('work put off to the end of the turn (app/end-of-turn.ts)', () => {
  it('runs the turn\u2019s tasks once it ends, in the order queued, and a task queued by one of them in the same pass', async () => {
    const ran: string[] = [];
    atTurnEnd(() => {
      ran.push('first');
      atTurnEnd(() => ran.push('queued by the first'));
    });
    atTurnEnd(() => ran.push('second'));
    expect(ran).to.deep.equal([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(ran).to.deep.equal(['first', 'second', 'queued by the first']);
  });

  it('runs what is pending when the process exits in the same turn, log lines a task writes included', async () => {
    const child = spawnChild(['--input-type=module', '-e', [
      "const { atTurnEnd } = await import('./app/end-of-turn.ts');",
      "const { createLogger } = await import('./app/logger.ts');",
      "const logger = createLogger('info');",
      "logger.info('logged before');",
      "atTurnEnd(() => logger.info('logged by a task put off'));",
      'process.exit(3);',
    ].join('\n')], {});
    expect(await child.exited).to.equal(3);
    expect(child.output.filter((line) => line.startsWith('{')).map((line) => (JSON.parse(line) as { msg: string }).msg))
      .to.deep.equal(['logged before', 'logged by a task put off']);
  });

  describe('metrics', () => {
    let api: TestApp;
    before(async () => {
      api = await startApp();
    });
    after(() => api.close());

    it('are read with this turn\u2019s observations, before the turn has ended', async () => {
      const metrics: Metrics = api.app.metrics;
      metrics.observe('GET', 'GET /observed-this-turn', 200, 0.001);
      metrics.observe('GET', 'GET /observed-this-turn', 200, 0.001);
      const text = await metrics.text();
      expect(text).to.match(/^http_request_duration_seconds_count\{[^}]*route="GET \/observed-this-turn"[^}]*\} 2$/m);
    });
  });
});
