import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DeviceKeys } from '../../auth/device-keys.js';
import { encodePart } from '../support/jwt.js';

const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
/** A proof's header segment with the device's key, and whatever else a sender puts in it; payload and signature do not matter here. */
const proofWith = (extra: object) => `${encodePart({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y }, ...extra })}.e30.c2ln`;

describe('device keys: proof headers remembered', () => {
  it('remembers a device header once, however many proofs carry it', () => {
    const keys = new DeviceKeys();
    const first = keys.ofProof(proofWith({}));
    expect(keys.ofProof(proofWith({}))).to.equal(first);
    expect(keys.keptHeaders).to.equal(1);
  });

  it('checks a padded header every time and never keeps it: headers a sender varies cannot fill the memory', () => {
    const keys = new DeviceKeys();
    const plain = keys.ofProof(proofWith({}));
    for (let i = 0; i < 50; i++) {
      const padded = keys.ofProof(proofWith({ pad: `${i}${'x'.repeat(4000)}` }));
      expect(padded.key.jkt).to.equal(plain.key.jkt); // still the same key, checked in full
    }
    expect(keys.keptHeaders).to.equal(1);
  });

  it('keeps a header apart from the proof it came in: 2,000 devices sending 16 KB proofs hold about their headers, not the proofs', () => {
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as () => void; // a context made after the flag has gc
    const keys = new DeviceKeys();
    const heapAfterCollection = () => {
      collect();
      return process.memoryUsage().heapUsed;
    };
    const before = heapAfterCollection();
    for (let i = 0; i < 2000; i++) keys.ofProof(`${encodePart({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y }, kid: `device-${i}` })}.${'e'.repeat(16_000)}.c2ln`);
    expect(keys.keptHeaders).to.equal(2000);
    // A header kept as a view into its proof would hold 2,000 x 16 KB = 32 MB.
    expect(heapAfterCollection() - before).to.be.below(12 * 2 ** 20);
  });
});
