// The minimal baseline the service is measured against: plain node:http + pg
// + jose doing the work of "protected GET employee" and nothing else: check
// the token (TOKEN_CHECK=jose, the default: jose's jwtVerify with the key
// imported once per kid; or TOKEN_CHECK=node-crypto: HS256 over node:crypto,
// as the service does it), and for a device-bound token the DPoP proof too
// (jose, as the service: signature, htm, htu, iat, ath, nonce, jti,
// thumbprint = cnf.jkt), then read the session row and the employee row.
// BASELINE_WORKERS processes share the port, as the service's WORKERS do.
import cluster from 'node:cluster';
import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify } from 'jose';
import pg from 'pg';

const {
  DB_URL = '', JWT_SECRET = '', PORT = '0', BASELINE_WORKERS = '1', DPOP_NONCE_SECONDS = '60',
  /** The origin proofs name (the service's, when the bench sends the service's clients here). */
  EXPECTED_ORIGIN = '',
  TOKEN_CHECK = 'jose',
} = process.env;

const keys = new Map<string, Buffer>();
function keyFor(kid: string): Buffer {
  let key = keys.get(kid);
  if (!key) {
    key = Buffer.from(hkdfSync('sha256', JWT_SECRET, 'host-session-api/jwt', `signing-key:${kid}`, 32));
    keys.set(kid, key);
  }
  return key;
}

const json = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>;

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
async function checkTokenWithJose(token: string): Promise<{ sid: string; jkt: string | undefined } | null> {
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
function checkToken(token: string): { sid: string; jkt: string | undefined } | null {
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

const nonceKey = Buffer.from(hkdfSync('sha256', JWT_SECRET, 'host-session-api', 'dpop-nonce', 32));
const seen = new Set<string>();
const windowNow = () => Math.floor(Date.now() / 1000 / Number(DPOP_NONCE_SECONDS));
const nonceOf = (window: number) => `${window}.${createHmac('sha256', nonceKey).update(String(window)).digest('base64url').slice(0, 22)}`;
function validNonce(nonce: unknown): boolean {
  const current = windowNow();
  return nonce === nonceOf(current) || nonce === nonceOf(current - 1);
}

async function checkProof(req: IncomingMessage, token: string, jkt: string): Promise<boolean> {
  const proof = String(req.headers.dpop ?? '');
  const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256', 'Ed25519', 'EdDSA'] });
  const url = `${EXPECTED_ORIGIN || `http://${req.headers.host}`}${(req.url ?? '').split('?')[0]}`;
  if (payload.htm !== req.method || payload.htu !== url || !validNonce(payload.nonce)) return false;
  if (payload.ath !== createHash('sha256').update(token).digest('base64url')) return false;
  if (Math.abs(Number(payload.iat) - Date.now() / 1000) > 125 || !protectedHeader.jwk) return false;
  const thumbprint = await calculateJwkThumbprint(protectedHeader.jwk, 'sha256');
  const key = `${thumbprint}:${String(payload.jti)}`;
  if (thumbprint !== jkt || seen.has(key)) return false;
  seen.add(key);
  if (seen.size > 1_000_000) seen.clear();
  return true;
}

if (cluster.isPrimary && Number(BASELINE_WORKERS) > 1) {
  for (let i = 0; i < Number(BASELINE_WORKERS); i++) cluster.fork();
  process.once('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    process.exit(0);
  });
} else {
  const pool = new pg.Pool({ connectionString: DB_URL, max: 10 });
  const server = createServer(async (req, res) => {
    // As the service: a client speaking DPoP always gets the current nonce.
    if (req.headers.dpop) res.setHeader('DPoP-Nonce', nonceOf(windowNow()));
    try {
      const [scheme = '', token = ''] = (req.headers.authorization ?? '').split(' ');
      const claims = TOKEN_CHECK === 'jose' ? await checkTokenWithJose(token) : checkToken(token);
      if (!claims || (claims.jkt ? scheme !== 'DPoP' || !await checkProof(req, token, claims.jkt) : scheme !== 'Bearer')) {
        res.writeHead(401).end();
        return;
      }
      const session = await pool.query({ name: 'session', text: 'SELECT customer_id, idle_expires_at FROM host_session WHERE session_id = $1', values: [claims.sid] });
      if (session.rowCount === 0) { res.writeHead(401).end(); return; }
      const empno = (req.url ?? '').split('/').pop();
      const employee = await pool.query({ name: 'employee', text: 'SELECT * FROM employee WHERE empno = $1', values: [empno] });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(employee.rows[0]));
    } catch {
      res.writeHead(401).end();
    }
  });
  server.listen(Number(PORT), '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ listening: (server.address() as { port: number }).port })}\n`));
  process.once('SIGTERM', () => server.close(() => pool.end().then(() => process.exit(0))));
}
