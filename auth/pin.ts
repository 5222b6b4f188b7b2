// PIN digests, computed on the API tier so the expensive work stays off the
// host: scrypt (memory-hard) with a per-account salt derived from a pepper
// the host never sees. The host only compares digests.
import { createHmac, scrypt } from 'node:crypto';
import { derivedSecret } from './keyring.js';

export type PinDigester = (account: string, pin: string) => Promise<string>;

export function pinDigester(pepper: Buffer, cost: number): PinDigester {
  return (account, pin) => {
    const salt = createHmac('sha256', pepper).update(`pin-salt:${account}`).digest();
    return new Promise((resolve, reject) => {
      // maxmem: scrypt needs 128 * N * r bytes; leave headroom over the default 32 MiB.
      scrypt(pin, salt, 32, { N: cost, r: 8, p: 1, maxmem: 256 * cost * 8 + 1024 * 1024 }, (error, key) =>
        error ? reject(error) : resolve(key.toString('hex')));
    });
  };
}

/** The digester for a master secret: its pepper is derived from it, so every instance agrees. */
export function pinDigesterFor(secret: string, cost: number): PinDigester {
  return pinDigester(derivedSecret(secret, 'pin-pepper'), cost);
}
