// The byte encodings the protocol speaks: base64url (RFC 4648 §5) of bytes,
// of UTF-8 text and of JSON, and base64url SHA-256 digests (DPoP's ath).
// btoa and TextEncoder exist in browsers and in Node 20 alike.

const utf8 = new TextEncoder();

export function base64url(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let binary = '';
  for (const byte of view) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function base64urlJson(value: unknown): string {
  return base64url(utf8.encode(JSON.stringify(value)));
}

export function utf8Bytes(text: string): Uint8Array<ArrayBuffer> {
  return utf8.encode(text);
}

/** base64url(SHA-256(text)): what a proof's ath names, and a JWK thumbprint's form. */
export async function sha256Base64url(text: string): Promise<string> {
  return base64url(await crypto.subtle.digest('SHA-256', utf8.encode(text)));
}
