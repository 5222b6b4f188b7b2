// `npm run bench`: starts the service itself, drives it with autocannon on
// loopback for a bounded time per scenario, and prints a table: requests/s,
// p50/p99 latency, errors, host calls and host session writes per request
// (from the service's own /metrics), CPU per request of the API processes
// and of the PostgreSQL server, and RSS. Then, when a PostgreSQL server is
// reachable (BENCH_PG_URL), the service with WORKERS=2 against the minimal
// baseline (bench/baseline.ts) doing the same work as protected GET employee,
// alternated over BENCH_ROUNDS rounds: the table shows each side's median run,
// the closing line the median of the per-round ratios.
import autocannon, { type Result } from 'autocannon';
import { get as httpGet } from 'node:http';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { familyOf, freePort, launch, rssMb, startService, stop, waitFor, type LocalService } from '../scripts/local-service.js';
import { createScratchDatabase } from '../scripts/scratch-database.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
/** Sessions the protected scenarios spread their requests over. */
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 64);
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SECRET = 'bench-secret-0123456789abcdefghijklmnopqrstuvwxyz';
const ALICE = { account: '100000001', pin: '12345' };

interface Row {
  scenario: string;
  /** CPU per request in microseconds: the API processes, and the PostgreSQL server (when it is one). */
  apiCpuUs?: number;
  hostCpuUs?: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  hostCalls?: number;
  sessionWrites?: number;
  rssMb: number;
}

const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) used so far, per process, of the processes whose command name matches. */
function cpuSeconds(match: (pid: number, command: string) => boolean): Map<number, number> {
  const used = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (!match(Number(entry), command)) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      used.set(Number(entry), (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND); // utime, stime
    } catch { /* gone */ }
  }
  return used;
}

/** CPU used between two snapshots by the processes alive at the end (a pool closing idle connections must not subtract). */
function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let seconds = 0;
  for (const [pid, used] of after) seconds += used - (before.get(pid) ?? 0);
  return seconds;
}

/** One GET on a fresh connection, so the kernel may hand it to any worker of a cluster. */
function getFresh(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    httpGet(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { body += chunk; });
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

/** Counters summed across workers: scrapes /metrics until every worker (pid label) has answered. */
async function counters(base: string, workers: number): Promise<Record<string, number>> {
  const latest = new Map<string, string>();
  for (let i = 0; i < 100 && latest.size < workers; i++) {
    const text = await getFresh(`${base}/metrics`);
    latest.set(/pid="(\d+)"/.exec(text)?.[1] ?? '0', text);
  }
  if (latest.size < workers) throw new Error(`only ${latest.size} of ${workers} workers answered /metrics`);
  const sums: Record<string, number> = {};
  for (const text of latest.values()) {
    // Label values may hold braces (route="GET /api/sample/employee/{empno}"): match to the last "} ".
    for (const [, metric = '', labels = '', value] of text.matchAll(/^(host_calls_total|session_touches_total|http_request_duration_seconds_count)\{(.*)\} (\d+)$/gm)) {
      if (labels.includes('route="GET /metrics"')) continue; // the scrapes themselves
      const name = metric === 'host_calls_total' ? `host:${/name="([^"]+)"/.exec(labels)?.[1]}` : metric;
      sums[name] = (sums[name] ?? 0) + Number(value);
    }
  }
  return sums;
}

async function login(base: string): Promise<string> {
  const response = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ALICE) });
  return ((await response.json()) as { token: string }).token;
}

function drive(options: autocannon.Options): Promise<Result> {
  return new Promise((resolve, reject) => {
    autocannon({ connections: CONNECTIONS, duration: SECONDS, ...options }, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

interface Target {
  /** The process whose family (itself and its workers) is the API tier. */
  pid: number;
  workers: number;
  /** Where /metrics answers; the baseline has none. */
  metricsBase?: string;
}

const isPostgres = (_pid: number, command: string) => command === 'postgres';

async function measure(name: string, target: Target, options: autocannon.Options): Promise<Row> {
  const settle = () => new Promise((r) => setTimeout(r, 1500)); // requests in flight at a cut-off finish
  await drive({ ...options, duration: 1 }); // warm-up: JIT, prepared statements, pool
  await settle();
  const family = familyOf(target.pid);
  const before = target.metricsBase ? await counters(target.metricsBase, target.workers) : {};
  const [apiBefore, hostBefore] = [cpuSeconds((pid) => family.has(pid)), cpuSeconds(isPostgres)];
  const result = await drive(options);
  const [apiAfter, hostAfter] = [cpuSeconds((pid) => family.has(pid)), cpuSeconds(isPostgres)];
  const [apiSeconds, hostSeconds] = [cpuBetween(apiBefore, apiAfter), cpuBetween(hostBefore, hostAfter)];
  await settle();
  const after = target.metricsBase ? await counters(target.metricsBase, target.workers) : {};
  const delta = (key: string) => (after[key] ?? 0) - (before[key] ?? 0);
  // Per request the service completed (its own count), so requests in flight at a cut-off cannot skew it.
  const served = delta('http_request_duration_seconds_count');
  const hostCalls = Object.keys(after).filter((k) => k.startsWith('host:')).reduce((n, k) => n + delta(k), 0);
  const sent = result.requests.total;
  return {
    scenario: name,
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    ...(target.metricsBase && served ? {
      hostCalls: hostCalls / served,
      sessionWrites: (delta('session_touches_total') + delta('host:login')) / served,
    } : {}),
    apiCpuUs: sent ? Math.round(apiSeconds * 1e6 / sent) : undefined,
    hostCpuUs: sent ? Math.round(hostSeconds * 1e6 / sent) : undefined,
    rssMb: rssMb(target.pid),
  };
}

/** Each request carries one of many sessions' tokens, as real traffic does (one token would let singleflight share lookups). */
function withTokens(tokens: string[], options: autocannon.Options): autocannon.Options {
  let next = 0;
  return {
    ...options,
    requests: [{
      setupRequest: (request) => {
        const headers: Record<string, string> = { ...(request.headers as Record<string, string>), authorization: `Bearer ${tokens[next++ % tokens.length]}` };
        if (request.method === 'POST' && String(request.path).includes('/transfers')) headers['idempotency-key'] = randomUUID();
        return { ...request, headers };
      },
    }],
  };
}

async function sessions(base: string, count: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < count; i += 16) tokens.push(...await Promise.all(Array.from({ length: Math.min(16, count - i) }, () => login(base))));
  return tokens;
}

function startBenchService(dbUrl: string, workers: number): Promise<LocalService> {
  return startService({
    DB_URL: dbUrl, WORKERS: String(workers), JWT_SECRET: SECRET, NODE_ENV: 'development', DEMO_DATA: 'true',
    LOGIN_RATE_PER_MINUTE: '100000', LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn', DB_POOL_SIZE: '10',
  });
}

async function serviceScenarios(dbUrl: string, label: string): Promise<Row[]> {
  const { base, child } = await startBenchService(dbUrl, 1);
  try {
    const target: Target = { pid: child.pid!, workers: 1, metricsBase: base };
    const tokens = await sessions(base, SESSIONS);
    const json = { 'content-type': 'application/json' };
    return [
      await measure(`login (${label})`, target, { url: `${base}/api/auth/login`, method: 'POST', headers: json, body: JSON.stringify(ALICE) }),
      await measure(`protected GET employee (${label})`, target, withTokens(tokens, { url: `${base}/api/sample/employee/000010` })),
      await measure(`employee list page (${label})`, target, withTokens(tokens, { url: `${base}/api/sample/employee?limit=20&offset=0` })),
      await measure(`transfer (${label})`, target, withTokens(tokens, {
        url: `${base}/api/transfers`, method: 'POST', headers: json,
        body: JSON.stringify({ bankId: 'DEMOBANK1', fromAccount: ALICE.account, toAccount: '200000001', amount: '0.01' }),
      })),
      await measure(`account transactions page (${label})`, target, withTokens(tokens, { url: `${base}/api/accounts/${ALICE.account}/transactions?limit=20` })),
    ];
  } finally {
    await stop(child);
  }
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

/** Median over rounds of each round's service/baseline ratio: a round's two runs are back to back, so a drift in the machine's speed touches both. */
let pairedRatio: { rps: number; p99: number } | undefined;

/** The run with the median requests/s: one noisy round (a busy neighbour on a shared machine) cannot decide. */
function median(rows: Row[]): Row {
  const row = [...rows].sort((a, b) => a.rps - b.rps)[Math.floor(rows.length / 2)];
  if (!row) throw new Error('no runs to take a median of');
  return row;
}

/** The middle value (the upper one of an even count). */
function middle(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
}

async function comparison(dbUrl: string): Promise<Row[]> {
  const service = await startBenchService(dbUrl, 2);
  const port = await freePort();
  const baseline = launch(['--import', 'tsx', 'bench/baseline.ts'], { DB_URL: dbUrl, PORT: String(port), JWT_SECRET: SECRET, BASELINE_WORKERS: '2' });
  try {
    const baselineBase = `http://127.0.0.1:${port}`;
    await waitFor(`${baselineBase}/x`, () => true); // any answer: it listens
    const tokens = await sessions(service.base, SESSIONS);
    const path = '/api/sample/employee/000010';
    const runs: { service: Row[]; baseline: Row[] } = { service: [], baseline: [] };
    // Alternate the two, so drifts in the machine's speed touch both alike.
    for (let round = 0; round < ROUNDS; round++) {
      runs.service.push(await measure('service WORKERS=2: protected GET employee (PostgreSQL)',
        { pid: service.child.pid!, workers: 2, metricsBase: service.base }, withTokens(tokens, { url: `${service.base}${path}` })));
      runs.baseline.push({
        ...await measure('baseline node:http+pg+jose, 2 processes: same work', { pid: baseline.pid! , workers: 2 },
          withTokens(tokens, { url: `${baselineBase}${path}` })),
        hostCalls: 2, sessionWrites: 0,
      });
    }
    const pairs = runs.service.flatMap((service, i) => {
      const baseline = runs.baseline[i];
      return baseline ? [{ rps: service.rps / baseline.rps, p99: service.p99 / baseline.p99 }] : [];
    });
    console.log(`rounds (req/s): service ${runs.service.map((r) => r.rps).join(', ')}; baseline ${runs.baseline.map((r) => r.rps).join(', ')}`);
    console.log(`per round, service / baseline: ${pairs.map((p) => `${(100 * p.rps).toFixed(0)}% p99 ${p.p99.toFixed(2)}×`).join('; ')}`);
    pairedRatio = { rps: middle(pairs.map((p) => p.rps)), p99: middle(pairs.map((p) => p.p99)) };
    return [median(runs.service), median(runs.baseline)];
  } finally {
    await stop(service.child);
    await stop(baseline);
  }
}

function print(rows: Row[]): void {
  const fixed = (n: number | undefined, digits: number) => (n === undefined ? '' : n.toFixed(digits));
  console.log('| scenario | req/s | p50 ms | p99 ms | errors | host calls/req | session writes/req | API CPU µs/req | PostgreSQL CPU µs/req | RSS MiB |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const host = r.scenario.includes('embedded') ? 'in API' : String(r.hostCpuUs ?? '');
    console.log(`| ${r.scenario} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.errors} | ${fixed(r.hostCalls, 2)} | ${fixed(r.sessionWrites, 3)} | ${r.apiCpuUs ?? ''} | ${host} | ${r.rssMb} |`);
  }
}

async function main(): Promise<void> {
  console.log(`bench: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; `
    + `${SECONDS} s per scenario, ${CONNECTIONS} connections, autocannon on loopback (sharing the machine with the service)`);
  const rows: Row[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'api-bench-'));
  try {
    rows.push(...await serviceScenarios(process.env.DB_URL ?? `pglite:${dir}/host`, process.env.DB_URL ? 'DB_URL' : 'embedded'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const database = await createScratchDatabase(PG_URL, 'api_bench');
  if (database) {
    try {
      rows.push(...await comparison(database.url));
    } finally {
      await database.drop();
    }
  } else {
    console.log(`(no PostgreSQL at ${PG_URL}: the WORKERS=2 comparison with the baseline is skipped)`);
  }
  print(rows);
  if (pairedRatio) {
    console.log(`\nservice / baseline, median of ${ROUNDS} paired rounds: ${(100 * pairedRatio.rps).toFixed(0)}% of the requests/s, p99 ${pairedRatio.p99.toFixed(2)}×`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
