// The bounded memory behind the token, device-header and session caches
// (auth/recently-used.ts): what it keeps past its capacity, and that a hit
// keeps an entry.
import { expect } from 'chai';
import { RecentlyUsed } from '../../auth/recently-used.js';

describe('recently used memory', () => {
  it('holds no more than its capacity, forgetting the oldest entry nobody used', () => {
    const memory = new RecentlyUsed<number>(3);
    for (const key of ['a', 'b', 'c', 'd']) memory.set(key, 1);
    expect(memory.size).to.equal(3);
    expect(memory.use('a')).to.equal(undefined);
    expect([memory.use('b'), memory.use('c'), memory.use('d')]).to.deep.equal([1, 1, 1]);
  });

  it('spares an entry used since it came: a key in use is not forgotten for newer ones', () => {
    const memory = new RecentlyUsed<string>(3);
    memory.set('hot', 'kept');
    for (let i = 0; i < 100; i++) {
      expect(memory.use('hot')).to.equal('kept');
      memory.set(`cold-${i}`, 'passing');
      expect(memory.size).to.be.at.most(3);
    }
    expect(memory.use('hot')).to.equal('kept');
    expect(memory.use('cold-98')).to.equal('passing');
    expect(memory.use('cold-0')).to.equal(undefined);
  });

  it('forgets one entry even when every entry was used (each loses its mark as the sweep passes it)', () => {
    const memory = new RecentlyUsed<number>(2);
    memory.set('a', 1);
    memory.set('b', 2);
    memory.use('a');
    memory.use('b');
    memory.set('c', 3);
    expect(memory.size).to.equal(2);
    expect(memory.use('a')).to.equal(undefined); // the oldest, once both had lost their marks
    expect([memory.use('b'), memory.use('c')]).to.deep.equal([2, 3]);
  });

  it('replaces the value under a known key, and finds a key by its text whatever string holds it', () => {
    const memory = new RecentlyUsed<number>(2);
    const header = 'eyJ0eXAiOiJkcG9wK2p3dCJ9.payload.signature';
    memory.set(header.slice(0, header.indexOf('.')), 1);
    memory.set('eyJ0eXAiOiJkcG9wK2p3dCJ9', 2);
    expect(memory.size).to.equal(1);
    expect(memory.use(['eyJ0eXAi', 'OiJkcG9wK2p3dCJ9'].join(''))).to.equal(2);
    memory.delete('eyJ0eXAiOiJkcG9wK2p3dCJ9');
    expect(memory.use('eyJ0eXAiOiJkcG9wK2p3dCJ9')).to.equal(undefined);
  });
});
