// Rotating signing keys: key(window) = HKDF(JWT_SECRET, window), so every
// instance derives the same keys with no key store and no coordination.
import { hkdfSync, webcrypto } from 'node:crypto';

export interface SigningKey {
  kid: string;
  key: webcrypto.CryptoKey;
}

const KID = /^\d{1,12}$/;
const CACHED_WINDOWS = 64;

export class KeyRing {
  /**
   * Imported keys by window. jose verifies with WebCrypto: handing it a
   * CryptoKey imported once per window spares an import on every request.
   */
  private readonly cache = new Map<number, Promise<webcrypto.CryptoKey>>();

  constructor(
    private readonly secret: string,
    private readonly rotationSeconds: number,
    /** The longest a token can live: older windows cannot hold a live session. */
    private readonly maxTokenLifetimeSeconds: number,
  ) {}

  windowAt(now: Date): number {
    return Math.floor(now.getTime() / 1000 / this.rotationSeconds);
  }

  signingKeyFor(window: number): Promise<webcrypto.CryptoKey> {
    let key = this.cache.get(window);
    if (!key) {
      const bytes = hkdfSync('sha256', this.secret, 'host-session-api/jwt', `signing-key:${window}`, 32);
      key = webcrypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
      const [oldest] = this.cache.keys();
      if (this.cache.size >= CACHED_WINDOWS && oldest !== undefined) this.cache.delete(oldest);
      this.cache.set(window, key);
    }
    return key;
  }

  async current(now: Date): Promise<SigningKey> {
    const window = this.windowAt(now);
    return { kid: String(window), key: await this.signingKeyFor(window) };
  }

  /**
   * The key for a token's `kid`, which is hostile input: digits only, not in
   * the future, and not older than a token signed then could still be alive.
   * Null when the kid is not acceptable (nothing is derived or cached for it).
   */
  verificationKeyFor(kid: unknown, now: Date): Promise<webcrypto.CryptoKey> | null {
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
