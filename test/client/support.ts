// What the client suites share: a fetch that records every exchange the
// client makes (method, path, the headers it sent, the answer's status and
// problem code), so a test can say what went over the wire.
export interface Exchanged {
  method: string;
  path: string;
  sent: Headers;
  body: string | null;
  status: number;
  code: string | null;
}

export function recordingFetch(log: Exchanged[], through: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const response = await through(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input));
    const text = await response.clone().text();
    const code = /problem\+json/.test(response.headers.get('content-type') ?? '') ? String(JSON.parse(text).code) : null;
    log.push({
      method: init?.method ?? 'GET', path: url.pathname, sent: new Headers(init?.headers),
      body: typeof init?.body === 'string' ? init.body : null, status: response.status, code,
    });
    return response;
  };
}

/** The log as "METHOD /path status[ code]" lines: what a test compares. */
export const lines = (log: Exchanged[]): string[] => log.map((e) => `${e.method} ${e.path} ${e.status}${e.code ? ` ${e.code}` : ''}`);

/** The decoded JSON of a compact JWS's protected header and payload. */
export function jwsParts(jws: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header = '', payload = ''] = jws.split('.');
  const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>;
  return { header: decode(header), payload: decode(payload) };
}
