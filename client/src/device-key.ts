// The device key: a WebCrypto key pair whose private half is created
// non-extractable, so no script (ours included) can read it; it signs DPoP
// proofs and transfer signatures as compact JWS and shows only its public JWK.
import { base64url, base64urlJson, sha256Base64url, utf8Bytes } from './encoding.js';

/** What the service accepts from a device: P-256 (every phone's secure hardware) or Ed25519. */
export type DeviceAlgorithm = 'ES256' | 'Ed25519';

/** The public members only: what a proof's header carries (RFC 9449 §4.2 forbids the private ones). */
export type PublicJwk =
  | { kty: 'EC'; crv: 'P-256'; x: string; y: string }
  | { kty: 'OKP'; crv: 'Ed25519'; x: string };

const ECDSA_P256: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGNING: Record<DeviceAlgorithm, AlgorithmIdentifier | EcdsaParams> = {
  // WebCrypto's ECDSA signature is r || s, 64 bytes: exactly JWS's ES256 form (RFC 7518 §3.4).
  ES256: { name: 'ECDSA', hash: 'SHA-256' },
  Ed25519: { name: 'Ed25519' },
};

export class DeviceKey {
  private constructor(
    readonly algorithm: DeviceAlgorithm,
    private readonly privateKey: CryptoKey,
    readonly publicJwk: PublicJwk,
  ) {}

  /** A new pair; its private key can sign and nothing else, and can never be exported. */
  static generatePair(algorithm: DeviceAlgorithm): Promise<CryptoKeyPair> {
    return algorithm === 'ES256'
      ? crypto.subtle.generateKey(ECDSA_P256, false, ['sign', 'verify'])
      : crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
  }

  static async fromPair(pair: CryptoKeyPair): Promise<DeviceKey> {
    const algorithm = algorithmOf(pair.privateKey);
    return new DeviceKey(algorithm, pair.privateKey, publicMembers(await crypto.subtle.exportKey('jwk', pair.publicKey)));
  }

  /** A compact JWS (RFC 7515) over `claims`, with `alg` set from this key. */
  async sign(header: { typ: string; jwk?: PublicJwk }, claims: object): Promise<string> {
    const signingInput = `${base64urlJson({ ...header, alg: this.algorithm })}.${base64urlJson(claims)}`;
    const signature = await crypto.subtle.sign(SIGNING[this.algorithm], this.privateKey, utf8Bytes(signingInput));
    return `${signingInput}.${base64url(signature)}`;
  }

  /** RFC 7638 thumbprint: how the service names this key (the token's cnf.jkt). */
  thumbprint(): Promise<string> {
    const jwk = this.publicJwk;
    // The required members in lexicographic order, no whitespace (RFC 7638 §3.2).
    const canonical = jwk.kty === 'EC'
      ? JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })
      : JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x });
    return sha256Base64url(canonical);
  }
}

function algorithmOf(key: CryptoKey): DeviceAlgorithm {
  const { name } = key.algorithm;
  if (name === 'Ed25519') return 'Ed25519';
  if (name === 'ECDSA' && 'namedCurve' in key.algorithm && key.algorithm.namedCurve === 'P-256') return 'ES256';
  throw new TypeError(`A device key must be ECDSA P-256 or Ed25519, not ${name}`);
}

/** Copies the public members by name, so nothing else (key_ops, ext, or worse) is ever sent. */
function publicMembers(jwk: JsonWebKey): PublicJwk {
  const { kty, crv, x, y } = jwk;
  if (kty === 'EC' && crv === 'P-256' && x && y) return { kty, crv, x, y };
  if (kty === 'OKP' && crv === 'Ed25519' && x) return { kty, crv, x };
  throw new TypeError('The device public key is not a P-256 or Ed25519 key');
}
