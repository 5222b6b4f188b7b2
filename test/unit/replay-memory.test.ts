// The used-proof memory of one process or a cluster primary (auth/shared-state.ts):
// a proof is refused for exactly as long as it could be accepted, whatever the order its records were made in.
import { expect } from 'chai';
import { MemoryReplayCache } from '../../auth/shared-state.js';

const T0 = Date.parse('2026-12-04T10:00:00Z');
const proof = (key: string, lifetimeSeconds: number) => ({ key, issuedAt: T0 / 1000, expiresAt: T0 + lifetimeSeconds * 1000 });

describe('the used-proof memory (MemoryReplayCache)', () => {
  it('refuses a proof again until its lifetime ends, records made out of expiry order included', () => {
    const memory = new MemoryReplayCache(T0 / 1000 - 1);
    expect(memory.recordNow(proof('long', 10), T0)).to.equal('first');
    expect(memory.recordNow(proof('short', 5), T0 + 1)).to.equal('first'); // made later, expires sooner
    for (const at of [T0 + 2000, T0 + 4999]) {
      expect(memory.recordNow(proof('long', 10), at)).to.equal('replayed');
      expect(memory.recordNow(proof('short', 5), at)).to.equal('replayed');
    }
    // Past 'short' (a sweep runs at each new second): 'long' is still refused, whatever the sweeps dropped.
    expect(memory.recordNow(proof('long', 10), T0 + 6000)).to.equal('replayed');
    expect(memory.recordNow(proof('long', 10), T0 + 9999)).to.equal('replayed');
    expect(memory.recordNow(proof('long', 20), T0 + 10_000)).to.equal('first'); // recorded anew, with the lifetime it gives now
    expect(memory.recordNow(proof('long', 20), T0 + 19_999)).to.equal('replayed');
  });

  it('moves a proof recorded anew behind the others, so the sweep behind it still drops what has expired', () => {
    const memory = new MemoryReplayCache(T0 / 1000 - 1);
    const at = (key: string, expiresAtMs: number) => ({ key, issuedAt: T0 / 1000, expiresAt: expiresAtMs });
    expect(memory.recordNow(at('again', T0 + 500), T0)).to.equal('first'); // the sweep ran now: the next is due at T0 + 1000
    for (let i = 0; i < 100; i++) memory.recordNow(at(`short-${i}`, T0 + 900), T0 + 100);
    // Expired, not yet swept, and used again: had it kept its place at the front, live for long, every sweep would stop there.
    expect(memory.recordNow(at('again', T0 + 600_000), T0 + 600)).to.equal('first');
    expect(memory.size).to.equal(101);
    memory.recordNow(at('later', T0 + 600_000), T0 + 2000); // a sweep is due
    expect(memory.size).to.equal(2); // 'again' and 'later'
    expect(memory.recordNow(at('again', T0 + 600_000), T0 + 2001)).to.equal('replayed');
  });

  it('cannot vouch for a proof made before it began (a restart)', () => {
    const memory = new MemoryReplayCache(T0 / 1000 + 1);
    expect(memory.recordNow(proof('before', 10), T0)).to.equal('unverifiable');
  });
});
