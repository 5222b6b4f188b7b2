// The log stream (app/logger.ts): a turn's lines in one write, in order, and
// nothing pending lost when the process exits at once.
import { expect } from 'chai';
import { createLogger, TurnBufferedStream } from '../../app/logger.js';
import { spawnChild } from '../support/child.js';

describe('log lines (app/logger.ts)', () => {
  it('writes the lines of one event-loop turn in one write, in order, when the turn ends', async () => {
    const writes: string[] = [];
    const stream = new TurnBufferedStream({ write: (text: string) => writes.push(text) });
    const logger = createLogger('info', stream as unknown as NodeJS.WritableStream);
    logger.info('first');
    logger.warn('second');
    logger.info('third');
    expect(writes).to.deep.equal([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).to.have.length(1);
    expect(writes[0]?.trimEnd().split('\n').map((line) => (JSON.parse(line) as { msg: string }).msg)).to.deep.equal(['first', 'second', 'third']);
    logger.info('next turn');
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).to.have.length(2);
  });

  it('writes what is pending when the process exits in the same turn', async () => {
    const child = spawnChild(['--input-type=module', '-e', [
      "const { createLogger } = await import('./app/logger.ts');",
      "const logger = createLogger('info');",
      "logger.info('logged just before exit');",
      "logger.error('and the reason');",
      'process.exit(3);',
    ].join('\n')], {});
    expect(await child.exited).to.equal(3);
    expect(child.output.filter((line) => line.startsWith('{')).map((line) => (JSON.parse(line) as { msg: string }).msg))
      .to.deep.equal(['logged just before exit', 'and the reason']);
  });
});
