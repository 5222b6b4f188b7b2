// Host contract: the stored procedures called directly, on whichever host the
// run uses (PGlite by default, the PostgreSQL server with TEST_HOST=postgres).
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { Host } from '../../db/host.js';
import { login, logout, purgeExpired, resolveSession } from '../../db/host-sessions.js';
import { hostRow, hostRows, resetHost } from '../support/host.js';

const T0 = new Date('2026-11-25T10:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const context = { requestId: 'contract', clientAddress: '127.0.0.1', traceId: null };

describe('host procedures', () => {
  let host: Host;
  beforeEach(async () => {
    host = await resetHost();
  });

  /** Logs in Bob with his real digest, read from the host (the API tier computes it; here we reuse it). */
  async function session(now = T0): Promise<string> {
    const { pin_digest: digest } = await hostRow("SELECT pin_digest FROM credential WHERE account_id = '200000001'");
    const sessionId = randomUUID();
    const outcome = await login(host, {
      ...context, sessionId, sessionHash: 'h'.repeat(16), account: '200000001', pinDigest: String(digest), device: null, jkt: null,
      now, idleSeconds: 300, absoluteSeconds: 3600, maxFailures: 3, lockSeconds: 60,
    });
    expect(outcome.status).to.equal('ok');
    return sessionId;
  }
  const resolve = (sessionId: string, seconds: number) =>
    resolveSession(host, { ...context, sessionId, now: at(seconds), idleSeconds: 300, touchSeconds: 60 });
  const lastSeen = async (sessionId: string) =>
    new Date(String((await hostRow('SELECT last_seen_at FROM host_session WHERE session_id = ?', [sessionId])).last_seen_at)).toISOString();

  describe('session_resolve', () => {
    it('writes the idle clock only once touch_seconds have passed', async () => {
      const sid = await session();
      expect((await resolve(sid, 30)).status).to.equal('alive');
      expect(await lastSeen(sid)).to.equal(T0.toISOString());
      const touched = await resolve(sid, 61);
      expect(touched.status === 'alive' && touched.session.idleExpiresAt.toISOString()).to.equal(at(361).toISOString());
      expect(await lastSeen(sid)).to.equal(at(61).toISOString());
    });

    it('answers gone for an unknown session and expired (deleting the row) past the idle limit', async () => {
      expect((await resolve(randomUUID(), 0)).status).to.equal('gone');
      const sid = await session();
      expect((await resolve(sid, 300)).status).to.equal('expired');
      expect(await hostRows('SELECT * FROM host_session WHERE session_id = ?', [sid])).to.deep.equal([]);
      expect((await resolve(sid, 301)).status).to.equal('gone');
    });
  });

  describe('logout', () => {
    it('deletes the row once; a second call finds nothing', async () => {
      const sid = await session();
      expect(await logout(host, sid, context, at(1))).to.equal(true);
      expect(await logout(host, sid, context, at(2))).to.equal(false);
    });
  });

  describe('purge_expired', () => {
    it('run by several instances at once deletes and audits each expired row exactly once', async () => {
      const sessions = await Promise.all(Array.from({ length: 6 }, () => session()));
      const results = await Promise.all(Array.from({ length: 4 }, () => purgeExpired(host, { now: at(400), auditBefore: new Date(0), guardBefore: new Date(0), knownDeviceBefore: new Date(0) })));
      expect(results.reduce((n, r) => n + r.sessions, 0)).to.equal(sessions.length);
      const audited = await hostRow("SELECT COUNT(*) AS n FROM audit_log WHERE event = 'session_expired'");
      expect(Number(audited.n)).to.equal(sessions.length);
    });
  });
});
