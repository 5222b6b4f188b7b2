// The minimal baseline the service is measured against: plain node:http + pg
// + jose doing the work of "protected GET employee" (verify the JWT, read the
// session row, read the employee row), nothing else. BASELINE_WORKERS
// processes share the port, as the service's WORKERS do.
import cluster from 'node:cluster';
import { hkdfSync } from 'node:crypto';
import { createServer } from 'node:http';
import { jwtVerify } from 'jose';
import pg from 'pg';

const { DB_URL = '', JWT_SECRET = '', PORT = '0', BASELINE_WORKERS = '1', JWT_ROTATION_SECONDS = '3600' } = process.env;

if (cluster.isPrimary && Number(BASELINE_WORKERS) > 1) {
  for (let i = 0; i < Number(BASELINE_WORKERS); i++) cluster.fork();
  process.once('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    process.exit(0);
  });
} else {
  const pool = new pg.Pool({ connectionString: DB_URL, max: 10 });
  const keys = new Map<string, Uint8Array>();
  const keyFor = (kid: string) => {
    let key = keys.get(kid);
    if (!key) {
      key = new Uint8Array(hkdfSync('sha256', JWT_SECRET, 'host-session-api/jwt', `signing-key:${kid}`, 32));
      keys.set(kid, key);
    }
    return key;
  };
  void JWT_ROTATION_SECONDS;
  const server = createServer(async (req, res) => {
    try {
      const token = (req.headers.authorization ?? '').slice('Bearer '.length);
      const { payload } = await jwtVerify(token, (header) => keyFor(String(header.kid)), { algorithms: ['HS256'] });
      const session = await pool.query({ name: 'session', text: 'SELECT customer_id, idle_expires_at FROM host_session WHERE session_id = $1', values: [payload.sid] });
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
