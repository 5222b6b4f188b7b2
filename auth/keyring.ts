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
   * Keys by window: the raw bytes (tokens are verified with node:crypto's
   * synchronous HMAC, auth/tokens.ts) and, made once when first signing, the
   * CryptoKey jose signs with.
   */
  private readonly cache = new Map<number, { bytes: Buffer; cryptoKey?: Promise<webcrypto.CryptoKey> }>();

  constructor(
    private readonly secret: string,
    private readonly rotationSeconds: number,
    /** The longest a token can live: older windows cannot hold a live session. */
    private readonly maxTokenLifetimeSeconds: number,
  ) {}

  windowAt(now: Date): number {
    return Math.floor(now.getTime() / 1000 / this.rotationSeconds);
  }

  private keyOf(window: number): { bytes: Buffer; cryptoKey?: Promise<webcrypto.CryptoKey> } {
    let key = this.cache.get(window);
    if (!key) {
      key = { bytes: Buffer.from(hkdfSync('sha256', this.secret, 'host-session-api/jwt', `signing-key:${window}`, 32)) };
      const [oldest] = this.cache.keys();
      if (this.cache.size >= CACHED_WINDOWS && oldest !== undefined) this.cache.delete(oldest);
      this.cache.set(window, key);
    }
    return key;
  }

  signingKeyFor(window: number): Promise<webcrypto.CryptoKey> {
    const key = this.keyOf(window);
    key.cryptoKey ??= webcrypto.subtle.importKey('raw', key.bytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    return key.cryptoKey;
  }

  async current(now: Date): Promise<SigningKey> {
    const window = this.windowAt(now);
    return { kid: String(window), key: await this.signingKeyFor(window) };
  }

  /**
   * The key for a token's `kid`, which is hostile input: digits only, not in
   * the future, and not older than a token signed then could still be alive.
   * Null when the kid is not acceptable (nothing is derived or cached for it);
   * else the key and when tokens it signed stop being accepted.
   */
  verificationKeyFor(kid: unknown, now: Date): { bytes: Buffer; acceptedUntilMs: number } | null {
    if (typeof kid !== 'string' || !KID.test(kid)) return null;
    const window = Number(kid);
    const current = this.windowAt(now);
    const acceptedUntil = (window + 1) * this.rotationSeconds + this.maxTokenLifetimeSeconds;
    if (window > current || acceptedUntil <= now.getTime() / 1000) return null;
    return { bytes: this.keyOf(window).bytes, acceptedUntilMs: acceptedUntil * 1000 };
  }
}

/** Other keys derived from the master secret, each for one purpose. */
export function derivedSecret(secret: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'host-session-api', purpose, 32));
}
