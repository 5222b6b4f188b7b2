// Reading and re-assembling compact JWTs in tests (tampering is the point).

export interface TokenParts {
  header: string;
  payload: string;
  signature: string;
}

export function tokenParts(token: string): TokenParts {
  const [header, payload, signature, ...rest] = token.split('.');
  if (header === undefined || payload === undefined || signature === undefined || rest.length) {
    throw new Error(`not a compact JWS: ${token.slice(0, 20)}…`);
  }
  return { header, payload, signature };
}

export const decodePart = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>;
export const encodePart = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The protected header of a token. */
export const tokenHeader = (token: string) => decodePart(tokenParts(token).header);
/** The claims of a token. */
export const tokenClaims = (token: string) => decodePart(tokenParts(token).payload);
