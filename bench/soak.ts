// `npm run soak`: a bounded soak (SOAK_SECONDS, default 60) of mixed traffic
// on the embedded host and, when reachable, on PostgreSQL: bearer sessions
// (autocannon) and, at the same time, device-bound sessions driven through
// the client kit (DPoP proofs, signed transfers). Passes when no request
// failed and neither RSS nor open file descriptors grew past a margin between
// the end of a warm-up and a few seconds after the load.
import autocannon from 'autocannon';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BankClient, MemoryKeyStore } from '../client/src/index.js';
import { rssMb, startService, stop } from '../scripts/local-service.js';
import { createScratchDatabase } from '../scripts/scratch-database.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SECRETS = { JWT_SECRET: 'soak-secret-0123456789abcdefghijklmnopqrstuvwxyz', PIN_PEPPER: 'soak-pepper-0123456789abcdefghijklmnopqrstuvwxyz' };
const BOUND_DEVICES = 4;
const RSS_GROWTH = 1.25;
const FD_GROWTH = 8;

const openFds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function traffic(base: string, tokens: string[], seconds: number): Promise<{ requests: number; failures: number }> {
  let n = 0;
  const token = () => tokens[n++ % tokens.length];
  const json = { 'content-type': 'application/json' };
  const authed = (request: autocannon.Request) => ({ ...request, headers: { ...(request.headers as Record<string, string>), authorization: `Bearer ${token()}` } });
  const result = await autocannon({
    url: base, connections: 16, duration: seconds,
    requests: [
      { method: 'GET', path: '/api/sample/employee/000010', setupRequest: authed },
      { method: 'GET', path: '/api/sample/employee?limit=20&lastName=s', setupRequest: authed },
      { method: 'GET', path: '/api/accounts', setupRequest: authed },
      { method: 'GET', path: '/api/accounts/100000001/transactions?limit=10', setupRequest: authed },
      {
        method: 'POST', path: '/api/transfers', headers: json,
        body: JSON.stringify({ bankId: 'DEMOBANK1', fromAccount: '100000001', toAccount: '100000002', amount: '0.01' }),
        setupRequest: (request) => ({ ...authed(request), headers: { ...authed(request).headers, 'idempotency-key': randomUUID() } }),
      },
      { method: 'PUT', path: '/api/auth/session/scratchpad', headers: json, body: JSON.stringify({ step: 2, cart: ['A1'] }), setupRequest: authed },
      { method: 'GET', path: '/api/auth/session/scratchpad', setupRequest: authed },
      { method: 'GET', path: '/health/ready' },
    ],
  });
  return { requests: result.requests.total, failures: result.errors + result.timeouts + result.non2xx };
}

/** Device-bound traffic through the client kit: each device reads, signs a transfer, lists its devices, in a loop. */
async function boundTraffic(clients: BankClient[], seconds: number): Promise<{ requests: number; failures: number }> {
  let requests = 0;
  let failures = 0;
  const deadline = Date.now() + seconds * 1000;
  await Promise.all(clients.map(async (client) => {
    while (Date.now() < deadline) {
      for (const call of [
        () => client.accounts(),
        () => client.transfer({ fromAccount: '100000001', toAccount: '100000002', amount: '0.01' }),
        () => client.employee('000010'),
        () => client.sessions(),
      ]) {
        requests += 1;
        await call().catch(() => { failures += 1; });
      }
    }
  }));
  return { requests, failures };
}

async function soak(label: string, dbUrl: string): Promise<boolean> {
  const { base, child } = await startService({
    DB_URL: dbUrl, ...SECRETS, DEMO_DATA: 'true', LOG_LEVEL: 'warn', LOGIN_RATE_PER_MINUTE: '100000',
    SESSION_IDLE_SECONDS: '600', SESSION_ABSOLUTE_SECONDS: '3600', TRANSFER_DAILY_COUNT: '1000000', TRANSFER_DAILY_AMOUNT: '9999999999.00',
  });
  try {
    const tokens: string[] = [];
    for (const [account, pin] of [['100000001', '12345'], ['100000001', '12345'], ['100000001', '12345'], ['100000001', '12345']]) {
      const response = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ account, pin }) });
      tokens.push(((await response.json()) as { token: string }).token);
    }
    const devices = Array.from({ length: BOUND_DEVICES }, () => new BankClient({ baseUrl: base, keyStore: new MemoryKeyStore() }));
    for (const device of devices) await device.login('100000001', '12345', { deviceLabel: 'soak' });
    const warmSeconds = Math.min(10, Math.max(3, SECONDS / 6));
    const [warm, warmBound] = await Promise.all([traffic(base, tokens, warmSeconds), boundTraffic(devices, warmSeconds)]);
    await pause(2000);
    const [rssBefore, fdsBefore] = [rssMb(child.pid!), openFds(child.pid!)];
    const [load, bound] = await Promise.all([traffic(base, tokens, SECONDS), boundTraffic(devices, SECONDS)]);
    await pause(3000);
    const [rssAfter, fdsAfter] = [rssMb(child.pid!), openFds(child.pid!)];
    const failed = warm.failures + warmBound.failures + load.failures + bound.failures;
    const ok = failed === 0 && rssAfter <= rssBefore * RSS_GROWTH && fdsAfter <= fdsBefore + FD_GROWTH;
    console.log(`${label}: ${load.requests} bearer and ${bound.requests} device-bound requests in ${SECONDS} s, ${failed} failed; `
      + `RSS ${rssBefore} → ${rssAfter} MiB; open fds ${fdsBefore} → ${fdsAfter}: ${ok ? 'ok' : 'FAILED'}`);
    return ok;
  } finally {
    await stop(child);
  }
}

async function main(): Promise<void> {
  const results: boolean[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'api-soak-'));
  try {
    results.push(await soak('embedded PGlite', `pglite:${dir}/host`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const database = await createScratchDatabase(PG_URL, 'api_soak');
  if (database) {
    try {
      results.push(await soak('PostgreSQL', database.url));
    } finally {
      await database.drop();
    }
  } else {
    console.log(`(no PostgreSQL at ${PG_URL}: soaked the embedded host only)`);
  }
  process.exit(results.every(Boolean) ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
