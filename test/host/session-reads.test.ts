// Session reads batched per event-loop turn (db/host-sessions.ts SessionReads):
// the reads one turn asks for cost one statement per SESSION_READ_BATCH
// sessions, each read answered with its own row, on whichever host the run
// uses (PGlite by default, the PostgreSQL server with TEST_HOST=postgres).
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { Host } from '../../db/host.js';
import { login, SessionReads, type HostSession } from '../../db/host-sessions.js';
import { SESSION_READ_BATCH } from '../../db/statements.js';
import { hostRow, resetHost } from '../support/host.js';

const T0 = new Date('2026-11-25T10:00:00Z');
const context = { requestId: 'session-reads', clientAddress: '127.0.0.1', traceId: null };

describe('session reads, one statement per turn (SessionReads)', () => {
  let host: Host;
  beforeEach(async () => {
    host = await resetHost();
  });

  /** Bob's session on the device `label`. */
  async function session(label: string): Promise<string> {
    const { pin_digest: digest } = await hostRow("SELECT pin_digest FROM credential WHERE account_id = '200000001'");
    const sessionId = randomUUID();
    const outcome = await login(host, {
      ...context, sessionId, sessionHash: 'h'.repeat(16), account: '200000001', pinDigest: String(digest), device: label, jkt: null,
      now: T0, idleSeconds: 300, absoluteSeconds: 3600, maxFailures: 3, lockSeconds: 60,
    });
    expect(outcome.status).to.equal('ok');
    return sessionId;
  }

  /** Host round trips by name since `before`. */
  const callsSince = (before: Record<string, number>) => {
    const after = host.stats().calls;
    return (name: string) => (after[name] ?? 0) - (before[name] ?? 0);
  };

  it('reads the sessions one turn asks for in one statement per eight, each read answered with its own row', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 11; i++) ids.push(await session(`phone-${i}`));
    // Asked for in another order than the rows were made, an unknown session among them:
    // a row handed out by its place in the answer, not by its id, goes to the wrong read.
    const asked = [ids[9]!, ids[2]!, ids[7]!, randomUUID(), ids[0]!, ids[5]!, ids[10]!, ids[1]!, ids[8]!, ids[3]!, ids[6]!, ids[4]!];
    const reads = new SessionReads(host);
    const before = host.stats().calls;
    const found = await Promise.all(asked.map((id) => reads.read(id, context)));
    const calls = callsSince(before);
    expect(calls('session.read.batch'), 'twelve reads: 8 + 4').to.equal(2);
    expect(calls('session.read')).to.equal(0);
    expect(found.map((s) => s && [s.sessionId, s.device])).to.deep.equal(asked.map((id) => {
      const made = ids.indexOf(id);
      return made < 0 ? null : [id, `phone-${made}`];
    }));
    // Each row as the lone read (session.read, a turn of its own) gives it, every field.
    expect(found[0]).to.deep.equal(await reads.read(asked[0]!, context));
  });

  it('reads a session alone with the plain primary-key read, and each turn in a statement of its own', async () => {
    const [a, b] = [await session('a'), await session('b')];
    const reads = new SessionReads(host);
    const before = host.stats().calls;
    expect((await reads.read(a, context))?.device).to.equal('a');
    expect((await reads.read(b, context))?.device).to.equal('b');
    const calls = callsSince(before);
    expect([calls('session.read'), calls('session.read.batch')]).to.deep.equal([2, 0]);
  });

  it('fails every read of a batch the host fails, and only those', async () => {
    const ids = [];
    for (let i = 0; i < SESSION_READ_BATCH + 1; i++) ids.push(await session(`phone-${i}`));
    const outage = new Error('host away');
    // The first batch's statement fails; the lone read after it (the ninth) reaches the host.
    let failures = 1;
    const failing: Host = Object.create(host, {
      query: { value: (...args: Parameters<Host['query']>) => (args[0].name === 'session.read.batch' && failures-- > 0 ? Promise.reject(outage) : host.query(...args)) },
    });
    const reads = new SessionReads(failing);
    const settled = await Promise.allSettled(ids.map((id) => reads.read(id, context)));
    expect(settled.slice(0, SESSION_READ_BATCH).map((s) => s.status === 'rejected' && s.reason)).to.deep.equal(Array(SESSION_READ_BATCH).fill(outage));
    const last = settled[SESSION_READ_BATCH];
    expect(last?.status === 'fulfilled' && (last.value as HostSession).device).to.equal(`phone-${SESSION_READ_BATCH}`);
  });

  it('fails a read whose row it cannot read, and no other read of its batch', async () => {
    const [a, b, c] = [await session('a'), await session('b'), await session('c')];
    // The host answers b's row with a role the service does not know.
    const odd: Host = Object.create(host, {
      query: { value: async (...args: Parameters<Host['query']>) => (await host.query(...args))
        .map((row) => (String(row.session_id).trimEnd() === b ? { ...row, access_role: 'root' } : row)) },
    });
    const reads = new SessionReads(odd);
    const before = host.stats().calls;
    const settled = await Promise.allSettled([a, b, c].map((id) => reads.read(id, context)));
    expect(callsSince(before)('session.read.batch'), 'one statement for the three').to.equal(1);
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value?.device : 'failed'))).to.deep.equal(['a', 'failed', 'c']);
  });
});
