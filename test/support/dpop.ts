// A device in tests: a key pair that signs DPoP proofs (RFC 9449) and
// transfer signatures, following the server's nonces, written from the RFC
// (the client kit in client/ has its own; tests of hostile input forge here).
import { createHash, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export type DeviceAlgorithm = 'ES256' | 'Ed25519';

export interface ProofOptions {
  method: string;
  url: string;
  token?: string;
  nonce?: string | null;
  /** Overrides for hostile tests: any claim, or the iat. */
  claims?: Record<string, unknown>;
  iat?: number;
  jti?: string;
}

export class TestDevice {
  /** The last DPoP-Nonce the server sent. */
  nonce: string | null = null;

  private constructor(readonly algorithm: DeviceAlgorithm, readonly privateKey: CryptoKey, readonly jwk: JWK) {}

  static async create(algorithm: DeviceAlgorithm = 'ES256'): Promise<TestDevice> {
    const { privateKey, publicKey } = await generateKeyPair(algorithm, { extractable: true });
    return new TestDevice(algorithm, privateKey, await exportJWK(publicKey));
  }

  async proof(options: ProofOptions): Promise<string> {
    const nonce = options.nonce === undefined ? this.nonce : options.nonce;
    const url = new URL(options.url);
    return new SignJWT({
      htm: options.method, htu: `${url.origin}${url.pathname}`,
      ...(options.token ? { ath: createHash('sha256').update(options.token).digest('base64url') } : {}),
      ...(nonce ? { nonce } : {}),
      ...options.claims,
    })
      .setProtectedHeader({ alg: this.algorithm, typ: 'dpop+jwt', jwk: this.jwk })
      .setJti(options.jti ?? randomUUID())
      .setIssuedAt(options.iat ?? Math.floor(Date.now() / 1000))
      .sign(this.privateKey);
  }

  /** A compact JWS over any header and payload, signed as they are (jose's signers refuse what hostile tests need, a crit extension say). */
  async signed(header: Record<string, unknown>, payload: unknown): Promise<string> {
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const input = `${part(header)}.${part(payload)}`;
    return `${input}.${await this.signature(input)}`;
  }

  /** This key's signature (base64url) over a JWS signing input as given. */
  async signature(input: string): Promise<string> {
    const params = this.algorithm === 'ES256' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'Ed25519' };
    return Buffer.from(await crypto.subtle.sign(params, this.privateKey, Buffer.from(input))).toString('base64url');
  }

  /** The transfer+jwt the server expects on a bound session. */
  async signTransfer(fields: { fromAccount: string; toAccount: string; amount: string; currency: string; idempotencyKey: string }, iat?: number): Promise<string> {
    return new SignJWT({ ...fields })
      .setProtectedHeader({ alg: this.algorithm, typ: 'transfer+jwt' })
      .setIssuedAt(iat ?? Math.floor(Date.now() / 1000))
      .sign(this.privateKey);
  }
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * The JWS with its signature's last character spelled otherwise, its bytes
 * the same: 64 bytes are 86 characters, the last carrying 2 bits of the
 * signature and 4 unused ones, of which this sets the lowest.
 */
export function respelled(jws: string): string {
  const last = jws.at(-1) ?? 'A';
  return `${jws.slice(0, -1)}${BASE64URL[BASE64URL.indexOf(last) ^ 1] ?? last}`;
}
