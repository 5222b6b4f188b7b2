// One exchange with the service: a fresh DPoP proof for this method and URL
// (naming the token and the server's latest nonce), a fresh one again when the
// server asks for its nonce, and the answer or its typed error.
import type { DeviceKey } from './device-key.js';
import { sha256Base64url } from './encoding.js';
import { errorFor, NetworkError } from './errors.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface Exchange {
  method: HttpMethod;
  /** Path with its parameters filled in, e.g. /api/accounts/100000001/transactions. */
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  /** The session's token and its scheme; absent on login, where there is none yet. */
  token?: { value: string; type: 'DPoP' | 'Bearer' };
}

export interface Reply {
  status: number;
  headers: Headers;
  body: unknown;
}

export interface TransportOptions {
  baseUrl: string;
  fetch: typeof fetch;
  now: () => Date;
  deviceKey: () => Promise<DeviceKey>;
  /** A request with no whole answer by then counts as a network failure. */
  timeoutMs: number;
}

/**
 * Fresh proofs signed in a row for one request when the server answers
 * use_dpop_nonce: the first learns the nonce (a new device, a new window);
 * the second covers a proof that reached a replay memory begun after it was
 * signed (an instance or its store restarted meanwhile), which refuses it as
 * possibly used before.
 */
const NONCE_RETRIES = 2;

export class Transport {
  /** The server's latest DPoP-Nonce (RFC 9449 §8): every proof carries it. */
  private nonce: string | null = null;

  constructor(private readonly options: TransportOptions) {}

  /** The answer to `exchange`; a problem answer is thrown as its typed error, no answer as NetworkError. */
  async send(exchange: Exchange): Promise<Reply> {
    let reply = await this.attempt(exchange);
    // The server refused the proof before doing anything, so signing again
    // with the nonce it just sent is safe for any method, a transfer included.
    for (let retry = 0; retry < NONCE_RETRIES && reply.status === 401 && problemCode(reply.body) === 'use_dpop_nonce'; retry++) {
      reply = await this.attempt(exchange);
    }
    if (reply.status >= 400) throw errorFor(reply.status, reply.body, retryAfterSeconds(reply.headers, this.options.now()));
    return reply;
  }

  private async attempt(exchange: Exchange): Promise<Reply> {
    const url = new URL(exchange.path, this.options.baseUrl);
    for (const [name, value] of Object.entries(exchange.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { Accept: 'application/json', ...exchange.headers };
    // A bearer session (a service that does not bind) takes no proof; login always offers one, to be bound.
    if (exchange.token?.type !== 'Bearer') headers.DPoP = await this.proof(exchange.method, url, exchange.token?.value);
    if (exchange.token) headers.Authorization = `${exchange.token.type} ${exchange.token.value}`;
    if (exchange.body !== undefined) headers['Content-Type'] = 'application/json';
    let response: Response;
    let text: string;
    try {
      response = await this.options.fetch(url, {
        method: exchange.method, headers, signal: AbortSignal.timeout(this.options.timeoutMs),
        ...(exchange.body !== undefined ? { body: JSON.stringify(exchange.body) } : {}),
      });
      // Read whole here: a connection cut mid-body is as much a network failure as one cut before it.
      text = await response.text();
    } catch (error) {
      throw new NetworkError(error, url.origin);
    }
    const nonce = response.headers.get('DPoP-Nonce');
    if (nonce) this.nonce = nonce;
    return { status: response.status, headers: response.headers, body: parsed(text, response.headers.get('Content-Type')) };
  }

  /** RFC 9449 §4.2: a one-time JWS by the device key over this method and URL (no query), now. */
  private async proof(method: HttpMethod, url: URL, token: string | undefined): Promise<string> {
    const key = await this.options.deviceKey();
    return key.sign({ typ: 'dpop+jwt', jwk: key.publicJwk }, {
      jti: crypto.randomUUID(),
      htm: method,
      htu: `${url.origin}${url.pathname}`,
      iat: Math.floor(this.options.now().getTime() / 1000),
      ...(this.nonce ? { nonce: this.nonce } : {}),
      ...(token ? { ath: await sha256Base64url(token) } : {}),
    });
  }
}

function parsed(text: string, contentType: string | null): unknown {
  if (!text) return undefined;
  if (!/json/.test(contentType ?? '')) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function problemCode(body: unknown): unknown {
  return typeof body === 'object' && body !== null && 'code' in body ? body.code : undefined;
}

/** Retry-After in seconds (RFC 9110 §10.2.3: a number of seconds, or a date). */
function retryAfterSeconds(headers: Headers, now: Date): number | null {
  const value = headers.get('Retry-After');
  if (value === null) return null;
  if (/^\d+$/.test(value)) return Number(value);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - now.getTime()) / 1000));
}
