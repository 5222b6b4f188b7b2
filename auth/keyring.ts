// Rotating signing keys: key(window) = HKDF(JWT_SECRET, window), so every
// instance derives the same keys with no key store and no coordination.
import { hkdfSync } from 'node:crypto';

export interface SigningKey {
  kid: string;
  key: Uint8Array;
}

const KID = /^\d{1,12}$/;

export class KeyRing {
  private readonly cache = new Map<number, Uint8Array>();

  constructor(
    private readonly secret: string,
    private readonly rotationSeconds: number,
    /** The longest a token can live: older windows cannot hold a live session. */
    private readonly maxTokenLifetimeSeconds: number,
  ) {}

  windowAt(now: Date): number {
    return Math.floor(now.getTime() / 1000 / this.rotationSeconds);
  }

  signingKeyFor(window: number): Uint8Array {
    let key = this.cache.get(window);
    if (!key) {
      key = new Uint8Array(hkdfSync('sha256', this.secret, 'host-session-api/jwt', `signing-key:${window}`, 32));
      if (this.cache.size >= 64) this.cache.delete(this.cache.keys().next().value as number);
      this.cache.set(window, key);
    }
    return key;
  }

  current(now: Date): SigningKey {
    const window = this.windowAt(now);
    return { kid: String(window), key: this.signingKeyFor(window) };
  }

  /**
   * The key for a token's `kid`, which is hostile input: digits only, not in
   * the future, and not older than a token signed then could still be alive.
   * Null when the kid is not acceptable.
   */
  verificationKeyFor(kid: unknown, now: Date): Uint8Array | null {
    if (typeof kid !== 'string' || !KID.test(kid)) return null;
    const window = Number(kid);
    const current = this.windowAt(now);
    const windowEnd = (window + 1) * this.rotationSeconds;
    if (window > current || windowEnd + this.maxTokenLifetimeSeconds <= now.getTime() / 1000) return null;
    return this.signingKeyFor(window);
  }
}

/** Other keys derived from the master secret, each for one purpose. */
export function derivedSecret(secret: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'host-session-api', purpose, 32));
}
