// The cluster primary's side of the shared proof memory (auth/cluster-state.ts),
// driven as node:cluster drives it: a 'message' event with the worker that sent it.
import { expect } from 'chai';
import cluster, { type Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import { shareStateWithWorkers } from '../../auth/cluster-state.js';

const CHANNEL = 'host-session-api:proofs'; // the wire's own name, as the workers send it

/**
 * A worker as the primary sees it: whether its channel is open, and what it
 * was sent. A send on a closed channel fails as node documents for
 * subprocess.send: the callback gets the error, or without one the process
 * object emits 'error' (with no listener: an uncaught exception, the primary's end).
 */
function fakeWorker(connected: boolean) {
  const sent: unknown[] = [];
  const processEvents = new EventEmitter();
  const worker = {
    isConnected: () => connected,
    send(message: unknown, callback?: (error: Error | null) => void) {
      if (!connected) {
        const error = Object.assign(new Error('Channel closed'), { code: 'ERR_IPC_CHANNEL_CLOSED' });
        process.nextTick(() => (callback ? callback(error) : processEvents.emit('error', error)));
        return false;
      }
      sent.push(message);
      if (callback) process.nextTick(callback, null);
      return true;
    },
  };
  return { worker: worker as unknown as Worker, sent };
}

describe('the cluster primary answering its workers', () => {
  const listenersBefore = cluster.listeners('message');
  const question = (id: number, key: string) => [id, key, Math.floor(Date.now() / 1000), Date.now() + 60_000];

  before(() => shareStateWithWorkers(new Date(Date.now() - 1000))); // its memory began a second ago
  after(() => {
    for (const listener of cluster.listeners('message')) if (!listenersBefore.includes(listener)) cluster.off('message', listener as never);
  });

  it('answers a batch in the order asked, a proof repeated inside it refused', () => {
    const { worker, sent } = fakeWorker(true);
    cluster.emit('message', worker, { channel: CHANNEL, questions: [question(1, 'a'), question(2, 'a'), question(3, 'b')] });
    cluster.emit('message', worker, { channel: CHANNEL, questions: [question(4, 'b'), question(5, 'c')] });
    expect(sent).to.deep.equal([
      { channel: CHANNEL, answers: [[1, 'first'], [2, 'replayed'], [3, 'first']] },
      { channel: CHANNEL, answers: [[4, 'replayed'], [5, 'first']] },
    ]);
  });

  it('records the questions of a worker that died before its answers, and stays up', async () => {
    const dead = fakeWorker(false);
    cluster.emit('message', dead.worker, { channel: CHANNEL, questions: [question(1, 'from-the-dead')] });
    await new Promise(setImmediate); // where a failed send would have ended the primary
    const { worker, sent } = fakeWorker(true);
    cluster.emit('message', worker, { channel: CHANNEL, questions: [question(1, 'from-the-dead')] });
    expect(sent).to.deep.equal([{ channel: CHANNEL, answers: [[1, 'replayed']] }]);
  });

  it('leaves messages on other channels to their own listeners', () => {
    const { worker, sent } = fakeWorker(true);
    cluster.emit('message', worker, { channel: 'elsewhere', questions: [question(1, 'x')] });
    expect(sent).to.deep.equal([]);
  });
});
