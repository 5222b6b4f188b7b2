// Device keys for the bench, over node:crypto: a P-256 key per session, its
// DPoP proofs (RFC 9449) and transfer signatures (typ transfer+jwt) signed
// ahead of a run, so the load generator does no signing on the measured
// cores while the load runs.
import { createHash, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

export class BenchDevice {
  private readonly privateKey: KeyObject;
  private readonly header: string;
  private readonly transferHeader: string;
  /** The device key's public JWK. */
  readonly jwk: { kty: string; crv: string; x: string; y: string };

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = privateKey;
    const { kty, crv, x, y } = publicKey.export({ format: 'jwk' }) as Record<string, string>;
    this.jwk = { kty: String(kty), crv: String(crv), x: String(x), y: String(y) };
    this.header = b64({ typ: 'dpop+jwt', alg: 'ES256', jwk: this.jwk });
    this.transferHeader = b64({ typ: 'transfer+jwt', alg: 'ES256' });
  }

  /** A compact ES256 JWS over `header.payload`. */
  private jws(header: string, claims: object): string {
    const input = `${header}.${b64(claims)}`;
    const signature = sign('sha256', Buffer.from(input), { key: this.privateKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${signature.toString('base64url')}`;
  }

  /** A fresh proof for one request (ath when a token is sent). */
  proof(htm: string, htu: string, nonce: string, token?: string): string {
    const ath = token === undefined ? undefined : createHash('sha256').update(token).digest('base64url');
    return this.jws(this.header, { jti: randomUUID(), htm, htu, iat: Math.floor(Date.now() / 1000), nonce, ...(ath ? { ath } : {}) });
  }

  /** The device's signature over a transfer (PSD2 dynamic linking), as the client kit makes it. */
  transferSignature(transfer: { fromAccount: string; toAccount: string; amount: string; currency: string; idempotencyKey: string }): string {
    return this.jws(this.transferHeader, { ...transfer, iat: Math.floor(Date.now() / 1000) });
  }
}

export interface BoundSession {
  device: BenchDevice;
  token: string;
  /** The nonce the service gave last: proofs signed ahead carry it (valid for one to two windows). */
  nonce: string;
}

/** A device-bound login: the first proof learns the nonce (401 use_dpop_nonce), the second logs in. */
export async function boundLogin(base: string, credentials: { account: string; pin: string }): Promise<BoundSession> {
  const device = new BenchDevice();
  const url = `${base}/api/auth/login`;
  let nonce = '';
  let refusal = '';
  for (let attempt = 0; attempt < 2; attempt++) {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', dpop: device.proof('POST', url, nonce) },
      body: JSON.stringify({ ...credentials, device: 'bench' }),
    });
    nonce = response.headers.get('dpop-nonce') ?? nonce;
    if (response.ok) return { device, token: ((await response.json()) as { token: string }).token, nonce };
    refusal = `${response.status} ${await response.text()}`;
  }
  throw new Error(`device-bound login at ${url} failed twice, last with ${refusal}`);
}

/** `count` device-bound sessions of one customer, each with a key of its own, logged in eight at a time. */
export async function boundSessions(base: string, credentials: { account: string; pin: string }, count: number): Promise<BoundSession[]> {
  const sessions: BoundSession[] = [];
  for (let i = 0; i < count; i += 8) sessions.push(...await Promise.all(Array.from({ length: Math.min(8, count - i) }, () => boundLogin(base, credentials))));
  return sessions;
}

/** The nonce a proof needs now: the service answers it to any request with a DPoP header, here a login without one. */
export async function currentNonce(base: string, session: BoundSession): Promise<string> {
  const url = `${base}/api/auth/login`;
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', dpop: session.device.proof('POST', url, '') }, body: '{}' });
  await response.arrayBuffer();
  const nonce = response.headers.get('dpop-nonce');
  if (!nonce) throw new Error(`${url} answered ${response.status} without a DPoP-Nonce`);
  return nonce;
}
