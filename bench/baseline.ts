// What the service is measured against: plain node:http + pg doing the work
// of a route and nothing else. BASELINE_WORKERS processes share the port, as
// the service's WORKERS do.
//
// CHECKS=jose (the baseline): the token checked with jose's jwtVerify (its
// key imported once per kid), as a typical jose-based server would.
// CHECKS=node-crypto (the floor): every check the service makes, each as
// cheaply as node:crypto allows. The token: HS256 over node:crypto. A DPoP
// proof (RFC 9449 §4.3): compact form, typ, alg among the service's, a public
// jwk only, the signature by a KeyObject imported once per key (its
// thumbprint with it), jti, htm, htu against EXPECTED_ORIGIN, iat, ath,
// nonce of this window or the last, jkt = the token's cnf.jkt, the jti used
// once across the floor's processes (RFC 9449 §11.1: every server that takes
// the proof; the primary keeps the memory, each worker asks it once per
// event-loop turn for all its proofs, as the service does). A transfer (POST /api/transfers): the device's signature over its
// fields by the same key, the PIN digest (scrypt, as the service) above
// STEP_UP_AMOUNT, the session row, and the host's transfer procedure with the
// service's arguments.
//
// Both read the session row (the service's statement) and check it is alive
// and bound as the token says, then the employee row, for GET
// /api/sample/employee/:empno, answered as the contract's body (the service's
// field names, CHAR padding trimmed, dates as the host's text).
//
// FRAMEWORK=koa (the floor's reads only): the same checks and statements as a
// route of the product owner's framework: Koa, @koa/router, koa-helmet with
// the service's policy, the path parameter checked by a yup schema. What it
// loses against the plain floor is what those dependencies cost, which no
// change inside the service can win back.
import cluster from 'node:cluster';
import {
  createHash, createHmac, createPublicKey, hkdfSync, randomUUID, scrypt, timingSafeEqual, verify, type KeyObject,
} from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify } from 'jose';
import Router from '@koa/router';
import Koa from 'koa';
import helmet from 'koa-helmet';
import pg from 'pg';
import { object, string } from 'yup';
import { textDateTypes } from '../db/pg/server.js';
import { procedures } from '../db/procedures.js';
import { statements, toDollarPlaceholders } from '../db/statements.js';

const {
  DB_URL = '', JWT_SECRET = '', PIN_PEPPER = '', PIN_KDF_COST = '16384', PORT = '0', BASELINE_WORKERS = '1',
  DPOP_NONCE_SECONDS = '60', STEP_UP_AMOUNT = '1000.00', TRANSFER_DAILY_AMOUNT = '10000.00', TRANSFER_DAILY_COUNT = '100',
  /** The origin proofs name (the service's, when the bench sends the service's clients here). */
  EXPECTED_ORIGIN = '',
  CHECKS = 'jose',
  FRAMEWORK = 'node:http',
} = process.env;

const hkdf = (secret: string, info: string, salt = 'host-session-api') => Buffer.from(hkdfSync('sha256', secret, salt, info, 32));
const keys = new Map<string, Buffer>();
function keyFor(kid: string): Buffer {
  let key = keys.get(kid);
  if (!key) {
    key = hkdf(JWT_SECRET, `signing-key:${kid}`, 'host-session-api/jwt');
    keys.set(kid, key);
  }
  return key;
}

const json = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>;

interface TokenClaims { sid: string; jkt: string | undefined }

const cryptoKeys = new Map<string, Promise<CryptoKey>>();
function cryptoKeyFor(kid: string): Promise<CryptoKey> {
  let key = cryptoKeys.get(kid);
  if (!key) {
    key = crypto.subtle.importKey('raw', new Uint8Array(keyFor(kid)), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
    cryptoKeys.set(kid, key);
  }
  return key;
}

/** jose's check: the session id and bound key of a valid token, or null. */
async function checkTokenWithJose(token: string): Promise<TokenClaims | null> {
  try {
    const { payload } = await jwtVerify(token, (header) => cryptoKeyFor(String(header.kid)),
      { algorithms: ['HS256'], typ: 'JWT', issuer: 'host-session-api', audience: 'host-session-api' });
    const cnf = payload.cnf as { jkt?: string } | undefined;
    return { sid: String(payload.sid), jkt: cnf?.jkt };
  } catch {
    return null;
  }
}

/** The service's check over node:crypto: the session id and bound key of a valid token, or null. */
function checkToken(token: string): TokenClaims | null {
  const [h = '', p = '', s = ''] = token.split('.');
  const header = json(h);
  if (header.alg !== 'HS256' || header.typ !== 'JWT') return null;
  const expected = createHmac('sha256', keyFor(String(header.kid))).update(`${h}.${p}`).digest();
  const given = Buffer.from(s, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  const claims = json(p);
  if (claims.iss !== 'host-session-api' || claims.aud !== 'host-session-api' || Number(claims.exp) <= Date.now() / 1000) return null;
  const cnf = claims.cnf as { jkt?: string } | undefined;
  return { sid: String(claims.sid), jkt: cnf?.jkt };
}

const nonceKey = hkdf(JWT_SECRET, 'dpop-nonce');
const seen = new Set<string>();
const windowNow = () => Math.floor(Date.now() / 1000 / Number(DPOP_NONCE_SECONDS));
const nonces = new Map<number, string>();
function nonceOf(window: number): string {
  let nonce = nonces.get(window);
  if (!nonce) {
    nonce = `${window}.${createHmac('sha256', nonceKey).update(String(window)).digest('base64url').slice(0, 22)}`;
    nonces.set(window, nonce);
  }
  return nonce;
}
const validNonce = (nonce: unknown) => nonce === nonceOf(windowNow()) || nonce === nonceOf(windowNow() - 1);
const urlOf = (req: IncomingMessage) => `${EXPECTED_ORIGIN || `http://${req.headers.host}`}${(req.url ?? '').split('?')[0]}`;
const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');

/** The same checks as the floor's, through jose's jwtVerify(EmbeddedJWK) and calculateJwkThumbprint. */
async function checkProofWithJose(req: IncomingMessage, token: string, jkt: string): Promise<DeviceKey | null> {
  const proof = String(req.headers.dpop ?? '');
  const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256', 'Ed25519', 'EdDSA'] });
  if (payload.htm !== req.method || payload.htu !== urlOf(req) || !validNonce(payload.nonce)) return null;
  if (payload.ath !== sha256(token) || Math.abs(Number(payload.iat) - Date.now() / 1000) > 125 || !protectedHeader.jwk) return null;
  const thumbprint = await calculateJwkThumbprint(protectedHeader.jwk, 'sha256');
  if (thumbprint !== jkt || !await usedOnce(thumbprint, payload.jti)) return null;
  return { key: createPublicKey({ key: protectedHeader.jwk as import('node:crypto').JsonWebKey, format: 'jwk' }), jkt: thumbprint, ec: protectedHeader.alg === 'ES256' };
}

/** Whether this is the first use of the proof in this process's memory (the primary's, for the workers). */
function firstUse(key: string): boolean {
  if (seen.has(key)) return false;
  seen.add(key);
  if (seen.size > 1_000_000) seen.clear();
  return true;
}

/** The jti memory of the workers, in the primary: one message a turn each way. */
const askPrimary: (key: string) => Promise<boolean> = (() => {
  if (!cluster.isWorker) return async (key: string) => firstUse(key);
  const waiting = new Map<number, (first: boolean) => void>();
  let unsent: [number, string][] = [];
  let next = 0;
  process.on('message', (answers: [number, boolean][]) => {
    for (const [id, first] of answers) {
      waiting.get(id)?.(first);
      waiting.delete(id);
    }
  });
  return (key: string) => new Promise<boolean>((resolve) => {
    const id = next++;
    waiting.set(id, resolve);
    unsent.push([id, key]);
    if (unsent.length === 1) {
      setImmediate(() => {
        process.send?.(unsent);
        unsent = [];
      });
    }
  });
})();

const usedOnce = (jkt: string, jti: unknown) => askPrimary(`${jkt}:${String(jti)}`);

interface DeviceKey { key: KeyObject; jkt: string; ec: boolean }
const deviceKeys = new Map<string, DeviceKey>();
const PRIVATE = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

/** The device key a proof header names, imported once per key (its thumbprint with it). */
function deviceKey(jwk: Record<string, unknown>, alg: string): DeviceKey | null {
  const ec = alg === 'ES256';
  const id = ec ? `EC:${String(jwk.crv)}:${String(jwk.x)}:${String(jwk.y)}` : `OKP:${String(jwk.crv)}:${String(jwk.x)}`;
  let known = deviceKeys.get(id);
  if (!known) {
    if ((ec && (jwk.kty !== 'EC' || jwk.crv !== 'P-256')) || (!ec && (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519'))) return null;
    const members = ec ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
    known = { key: createPublicKey({ key: members as import('node:crypto').JsonWebKey, format: 'jwk' }), jkt: sha256(JSON.stringify(members)), ec };
    deviceKeys.set(id, known);
  }
  return known;
}

/** A compact JWS checked by `key`; its header and payload, or null. */
function verifiedJws(jws: string, key?: DeviceKey): { header: Record<string, unknown>; payload: Record<string, unknown>; key: DeviceKey } | null {
  const [h = '', p = '', s = ''] = jws.split('.');
  const header = json(h);
  const alg = String(header.alg);
  if (alg !== 'ES256' && alg !== 'EdDSA' && alg !== 'Ed25519') return null;
  const jwk = header.jwk as Record<string, unknown> | undefined;
  const signer = key ?? (jwk && typeof jwk === 'object' && !PRIVATE.some((m) => m in jwk) ? deviceKey(jwk, alg) : null);
  if (!signer || signer.ec !== (alg === 'ES256')) return null;
  const signature = Buffer.from(s, 'base64url');
  const ok = verify(signer.ec ? 'sha256' : null, Buffer.from(`${h}.${p}`), signer.ec ? { key: signer.key, dsaEncoding: 'ieee-p1363' } : signer.key, signature);
  return ok ? { header, payload: json(p), key: signer } : null;
}

/** RFC 9449 §4.3 over node:crypto: the device key of a good proof, or null. */
async function checkProof(req: IncomingMessage, token: string, jkt: string): Promise<DeviceKey | null> {
  const checked = verifiedJws(String(req.headers.dpop ?? ''));
  if (!checked || checked.header.typ !== 'dpop+jwt') return null;
  const { payload } = checked;
  if (typeof payload.jti !== 'string' || payload.htm !== req.method || payload.htu !== urlOf(req) || !validNonce(payload.nonce)) return null;
  if (payload.ath !== sha256(token) || Math.abs(Number(payload.iat) - Date.now() / 1000) > 125) return null;
  if (checked.key.jkt !== jkt || !await usedOnce(checked.key.jkt, payload.jti)) return null;
  return checked.key;
}

const cents = (amount: string) => Math.round(Number(amount) * 100);
const pepper = hkdf(PIN_PEPPER, 'pin-pepper');
function pinDigest(account: string, pin: string): Promise<string> {
  const salt = createHmac('sha256', pepper).update(`pin-salt:${account}`).digest();
  const cost = Number(PIN_KDF_COST);
  return new Promise((resolve, reject) => {
    scrypt(pin, salt, 32, { N: cost, r: 8, p: 1, maxmem: 256 * cost * 8 + 1024 * 1024 }, (error, key) => (error ? reject(error) : resolve(key.toString('hex'))));
  });
}

const CALL_TRANSFER = `CALL transfer(${[...procedures.transfer.in.map((_, i) => `$${i + 1}`), ...procedures.transfer.out.map(() => 'NULL')].join(', ')})`;
/** The service's own session read: the same row, for the same checks. */
const SESSION = toDollarPlaceholders(statements.sessionRead.sql);

/** The session row, when it is there, within both expiries and bound as the token says. */
async function liveSession(pool: pg.Pool, claims: TokenClaims): Promise<Record<string, unknown> | null> {
  const { rows: [session] } = await pool.query({ name: 'session', text: SESSION, values: [claims.sid] });
  const now = Date.now();
  if (!session || (session.jkt ?? undefined) !== claims.jkt) return null;
  return (session.idle_expires_at as Date).getTime() > now && (session.absolute_expires_at as Date).getTime() > now ? session : null;
}

async function readBody(req: IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString()) as Record<string, string>;
}

/** The floor's transfer: the signature by the proof's key, the step-up digest, the session row, the procedure. */
async function transfer(req: IncomingMessage, res: ServerResponse, pool: pg.Pool, claims: TokenClaims, device: DeviceKey | null): Promise<void> {
  const body = await readBody(req);
  const idempotencyKey = String(req.headers['idempotency-key'] ?? '');
  let signed: Record<string, unknown> | null = null;
  if (device) {
    const checked = verifiedJws(String(req.headers['transfer-signature'] ?? ''), device);
    signed = checked?.header.typ === 'transfer+jwt' ? checked.payload : null;
    if (!signed || signed.fromAccount !== body.fromAccount || signed.toAccount !== body.toAccount || cents(String(signed.amount)) !== cents(body.amount ?? '')
      || signed.idempotencyKey !== idempotencyKey || typeof signed.currency !== 'string' || Math.abs(Number(signed.iat) - Date.now() / 1000) > 300) {
      res.writeHead(403).end();
      return;
    }
  }
  const stepUp = cents(body.amount ?? '') > cents(STEP_UP_AMOUNT);
  const session = await liveSession(pool, claims);
  if (!session) { res.writeHead(401).end(); return; }
  const digest = stepUp ? await pinDigest(String(session.account_id), String(body.pin)) : null;
  const args: Record<string, unknown> = {
    customer_id: session.customer_id, login_account: session.account_id, session_bank_id: session.bank_id, bank_id: body.bankId,
    idempotency_key: idempotencyKey, request_digest: createHash('sha256').update(JSON.stringify([body.bankId, body.fromAccount, body.toAccount, body.amount, body.reference ?? null])).digest('hex'),
    transfer_id: randomUUID(), from_account: body.fromAccount, to_account: body.toAccount, amount: body.amount, reference: body.reference ?? null,
    signed_currency: signed?.currency ?? null, auth_method: `${signed ? 'signed' : 'bearer'}${digest ? '+pin' : ''}`,
    auth_digest: signed ? createHash('sha256').update(String(req.headers['transfer-signature'])).digest('hex') : null, pin_digest: digest,
    max_failures: 5, lock_seconds: 900, payee_max_failures: 10, daily_amount_limit: TRANSFER_DAILY_AMOUNT, daily_count_limit: Number(TRANSFER_DAILY_COUNT),
    now: new Date(), request_id: randomUUID(), client_address: req.socket.remoteAddress ?? '', trace_id: null,
    device: session.device, session_hash: session.session_hash, jkt: session.jkt,
  };
  const { rows: [out] } = await pool.query({ name: 'transfer', text: CALL_TRANSFER, values: procedures.transfer.in.map((name) => args[name]) });
  if (out?.o_status !== 0) { res.writeHead(422).end(JSON.stringify({ status: out?.o_status })); return; }
  answer(res, 201, {
    transferId: out.o_transfer_id, fromAccount: out.o_from_account, toAccount: out.o_to_account, amount: out.o_amount,
    currency: out.o_currency, reference: out.o_reference, bookedAt: out.o_booked_at,
  }, ['Idempotent-Replayed', 'false']);
}

if (cluster.isPrimary && Number(BASELINE_WORKERS) > 1) {
  for (let i = 0; i < Number(BASELINE_WORKERS); i++) {
    const worker = cluster.fork();
    worker.on('message', (questions: [number, string][]) => worker.send(questions.map(([id, key]) => [id, firstUse(key)])));
  }
  process.once('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    process.exit(0);
  });
} else {
  const pool = new pg.Pool({ connectionString: DB_URL, max: 10, types: textDateTypes });
  const server = createServer(FRAMEWORK === 'koa' ? koaFloor(pool) : plain(pool));
  server.listen(Number(PORT), '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ listening: (server.address() as { port: number }).port })}\n`));
  process.once('SIGTERM', () => server.close(() => pool.end().then(() => process.exit(0))));
}

/**
 * What the contract puts on every /api answer besides the body (docs/API.md):
 * helmet's headers under the service's policy, no-store and its HTTP/1.0 twin,
 * a request id, the type and length. An answer without them would skip work no
 * conforming server can skip, and the bench's ratio would be unfair the other
 * way; the floor writes them as cheaply as node:http allows (one prepared list
 * per answer), the Koa route through koa-helmet as the service does.
 * test/serving/bench-floor.test.ts holds both to the service's own headers.
 */
const CONTRACT_HEADERS = [
  // koa-helmet's, under the service's policy
  'Content-Security-Policy', "default-src 'none';frame-ancestors 'none'", 'Cross-Origin-Opener-Policy', 'same-origin',
  'Cross-Origin-Resource-Policy', 'same-origin', 'Origin-Agent-Cluster', '?1', 'Referrer-Policy', 'no-referrer',
  'X-Content-Type-Options', 'nosniff', 'X-DNS-Prefetch-Control', 'off', 'X-Download-Options', 'noopen', 'X-Frame-Options', 'SAMEORIGIN',
  'X-Permitted-Cross-Domain-Policies', 'none', 'X-XSS-Protection', '0',
  // every /api answer's
  'Cache-Control', 'no-store', 'Pragma', 'no-cache', 'Content-Type', 'application/json; charset=utf-8',
];

/** A JSON answer with the contract's headers, on node:http. */
function answer(res: ServerResponse, status: number, value: unknown, more: string[] = []): void {
  const body = JSON.stringify(value);
  res.writeHead(status, [
    ...CONTRACT_HEADERS, ...more, 'X-Request-Id', randomUUID(), 'Content-Length', String(Buffer.byteLength(body)),
  ]).end(body);
}

/**
 * The employee row as the contract's body (docs/API.md), as cheaply as it can be written: named in camelCase, CHAR columns'
 * padding trimmed, DATE columns the host's text (the pool reads with the service's driver's parsers, `textDateTypes`).
 */
async function readEmployee(pool: pg.Pool, empno: string | undefined): Promise<Record<string, unknown> | undefined> {
  const { rows: [row] } = await pool.query({ name: 'employee', text: 'SELECT * FROM employee WHERE empno = $1', values: [empno] });
  if (!row) return undefined;
  const trimmed = (value: string | null) => value?.trimEnd() ?? null;
  return {
    empno: row.empno.trimEnd(), firstName: row.firstnme, midInit: trimmed(row.midinit) || null, lastName: row.lastname,
    workDept: trimmed(row.workdept), phoneNo: trimmed(row.phoneno), hireDate: row.hiredate, job: trimmed(row.job), edLevel: row.edlevel,
    sex: row.sex, birthDate: row.birthdate, salary: row.salary, bonus: row.bonus, comm: row.comm,
  };
}

/** node:http alone: the baseline (CHECKS=jose) or the floor. */
function plain(pool: pg.Pool): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const floor = CHECKS === 'node-crypto';
  return async (req, res) => {
    // As the service: a client speaking DPoP always gets the current nonce.
    if (req.headers.dpop) res.setHeader('DPoP-Nonce', nonceOf(windowNow()));
    try {
      const [scheme = '', token = ''] = (req.headers.authorization ?? '').split(' ');
      const claims = floor ? checkToken(token) : await checkTokenWithJose(token);
      if (!claims || scheme !== (claims.jkt ? 'DPoP' : 'Bearer')) { res.writeHead(401).end(); return; }
      const device = claims.jkt ? await (floor ? checkProof : checkProofWithJose)(req, token, claims.jkt) : null;
      if (claims.jkt && !device) { res.writeHead(401).end(); return; }
      if (req.method === 'POST' && req.url === '/api/transfers') {
        await transfer(req, res, pool, claims, device);
        return;
      }
      if (!await liveSession(pool, claims)) { res.writeHead(401).end(); return; }
      answer(res, 200, await readEmployee(pool, (req.url ?? '').split('/').pop()));
    } catch {
      res.writeHead(401).end();
    }
  };
}

/** The floor's read as a Koa route: the named framework's cost and nothing of the service's own. */
function koaFloor(pool: pg.Pool): ReturnType<Koa['callback']> {
  const app = new Koa();
  app.use(helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    strictTransportSecurity: false,
  }));
  const params = object({ empno: string().matches(/^[A-Za-z0-9]{6}$/).required() });
  const router = new Router();
  router.get('/api/sample/employee/:empno', async (ctx) => {
    // The order and the answers of the node:http floor: token, scheme, proof, session row, then the employee.
    if (ctx.get('DPoP')) ctx.set('DPoP-Nonce', nonceOf(windowNow()));
    try {
      const [scheme = '', token = ''] = ctx.get('Authorization').split(' ');
      const claims = checkToken(token);
      if (!claims || scheme !== (claims.jkt ? 'DPoP' : 'Bearer')) { ctx.status = 401; return; }
      const device = claims.jkt ? await checkProof(ctx.req, token, claims.jkt) : null;
      if ((claims.jkt && !device) || !await liveSession(pool, claims)) { ctx.status = 401; return; }
      const { empno } = params.validateSync(ctx.params);
      ctx.body = await readEmployee(pool, empno);
      ctx.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache', 'X-Request-Id': randomUUID() });
    } catch {
      ctx.status = 401; // anything unreadable, as on node:http
    }
  });
  app.use(router.routes());
  return app.callback();
}
