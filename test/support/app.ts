// Starts the real app in-process on the shared test host, listening on
// 127.0.0.1 on a free port, with a controllable clock.
import type { Tracer } from '@opentelemetry/api';
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import type { AddressInfo } from 'node:net';
import { createApp, type App } from '../../app/app.js';
import { loadConfig, type Config } from '../../app/config.js';
import type { SharedState } from '../../auth/shared-state.js';
import type { Host } from '../../db/host.js';
import { contractFor } from './contract.js';
import type { TestDevice } from './dpop.js';
import { sharedHost, TEST_KDF_COST, TEST_PIN_PEPPER, TEST_SECRET } from './host.js';

export class TestClock {
  constructor(public now = new Date('2026-11-25T10:00:00.000Z')) {}
  advance(seconds: number): void {
    this.now = new Date(this.now.getTime() + seconds * 1000);
  }
  readonly read = (): Date => this.now;
}

export interface Response<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

export interface TestApp {
  url: string;
  app: App;
  host: Host;
  clock: TestClock;
  config: Config;
  request<T = any>(method: string, path: string, options?: RequestOptions): Promise<Response<T>>;
  login(account: string, pin: string, device?: string): Promise<string>;
  /**
   * A request from a device: a DPoP proof (signed at the app's clock, naming
   * `token` when given) in the DPoP header, the token under the DPoP scheme,
   * and one retry when the server asks for its nonce.
   */
  requestAs<T = any>(device: TestDevice, method: string, path: string, options?: RequestOptions): Promise<Response<T>>;
  /** Logs in bound to `device`; returns the DPoP token. */
  loginAs(device: TestDevice, account: string, pin: string, label?: string): Promise<string>;
  close(): Promise<void>;
}

export function testConfig(env: Record<string, string> = {}): Config {
  // Demo data comes from resetHost (digests made with the test secret), never from start-up. The host is
  // handed in, never opened from DB_URL; in memory, DB_URL keeps development's secrets out of ./data.
  return loadConfig({
    NODE_ENV: 'test', DB_URL: 'pglite:memory', PIN_KDF_COST: String(TEST_KDF_COST), LOGIN_RATE_PER_MINUTE: '1000', METRICS_PORT: '0', DEMO_DATA: 'false', ...env,
  });
}

export async function request<T = any>(baseUrl: string, method: string, path: string, options: RequestOptions = {}): Promise<Response<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  if (/json/.test(response.headers.get('content-type') ?? '') && text) parsed = JSON.parse(text);
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}

/**
 * A device-bound login at a service running on its own (`base`), the proof
 * naming `origin` (where clients address it: the service itself, or a
 * balancer in front), signing a fresh proof when the service answers
 * use_dpop_nonce, as the contract asks: the DPoP token. Twice at most: once
 * for the nonce, and once more when a fleet's replay memory (Redis) began
 * after the second proof was signed (its first proof ever recorded, on a
 * busy machine a second later than signed: "made before the replay memory
 * began", docs/API.md).
 */
export async function loginBoundAt(base: string, device: TestDevice, body: { account: string; pin: string; device?: string }, origin = base): Promise<string> {
  const send = async (): Promise<Response> => {
    const response = await request(base, 'POST', '/api/auth/login', {
      headers: { dpop: await device.proof({ method: 'POST', url: `${origin}/api/auth/login` }) }, body,
    });
    device.nonce = response.headers.get('dpop-nonce') ?? device.nonce;
    return response;
  };
  const askedAgain = (reply: Response) => reply.status === 401 && reply.text.includes('"code":"use_dpop_nonce"');
  let response = await send();
  for (let retry = 0; retry < 2 && askedAgain(response); retry++) response = await send();
  if (response.status !== 201) throw new Error(`bound login ${body.account} at ${base} failed: ${response.status} ${response.text}`);
  return String(response.body.token);
}

export async function startApp(
  env: Record<string, string> = {},
  options: { clock?: TestClock; host?: Host; secret?: string; pinPepper?: string; tracer?: Tracer; logger?: Logger; sharedState?: SharedState } = {},
): Promise<TestApp> {
  const config = testConfig(env);
  const host = options.host ?? await sharedHost();
  const clock = options.clock ?? new TestClock();
  const app = createApp({ config, host, secret: options.secret ?? TEST_SECRET, pinPepper: options.pinPepper ?? TEST_PIN_PEPPER, clock: clock.read,
    tracer: options.tracer ?? null, ...(options.logger ? { logger: options.logger } : {}),
    ...(options.sharedState ? { sharedState: options.sharedState } : {}),
  });
  const server: Server = createServer(app.koa.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const contract = contractFor(app.document);
  /** Every answer held against the served document: a documented status, a body of its schema. */
  const checked = async <T>(method: string, path: string, opts?: RequestOptions): Promise<Response<T>> => {
    const response = await request<T>(url, method, path, opts);
    contract.check(method, path, response.status, response.headers.get('content-type') ?? '', response.body);
    return response;
  };
  const testApp: TestApp = {
    url, app, host, clock, config,
    request: checked,
    async requestAs<T>(device: TestDevice, method: string, path: string, opts: RequestOptions = {}) {
      const send = async (): Promise<Response<T>> => {
        // The proof names the origin the app holds proofs against: PUBLIC_ORIGIN when set, else where it listens.
        const origin = config.http.publicOrigin ?? url;
        const proof = await device.proof({ method, url: `${origin}${path}`, token: opts.token, iat: Math.floor(clock.now.getTime() / 1000) });
        const headers = { ...opts.headers, dpop: proof, ...(opts.token ? { authorization: `DPoP ${opts.token}` } : {}) };
        const response = await checked<T>(method, path, { ...opts, token: undefined, headers });
        device.nonce = response.headers.get('dpop-nonce') ?? device.nonce;
        return response;
      };
      const first = await send();
      return first.status === 401 && first.text.includes('"code":"use_dpop_nonce"') ? send() : first;
    },
    async loginAs(device, account, pin, label) {
      const response = await testApp.requestAs(device, 'POST', '/api/auth/login', { body: { account, pin, ...(label ? { device: label } : {}) } });
      if (response.status !== 201) throw new Error(`bound login ${account} failed: ${response.status} ${response.text}`);
      return response.body.token as string;
    },
    async login(account, pin, device) {
      const response = await testApp.request('POST', '/api/auth/login', { body: { account, pin, ...(device ? { device } : {}) } });
      if (response.status !== 201) throw new Error(`login ${account} failed: ${response.status} ${response.text}`);
      return response.body.token as string;
    },
    close: () => new Promise<void>((resolve) => {
      app.dispose();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  return testApp;
}

export const ALICE = { account: '100000001', pin: '12345', savings: '100000002' };
export const BOB = { account: '200000001', pin: '54321' };
export const CAROL = { account: '300000001', pin: '11111' };
export const STAFF = { account: '900000001', pin: '99999' };
