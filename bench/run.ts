// `npm run bench`: starts the service itself, drives it on loopback for a
// bounded time per scenario, and prints tables: requests/s, p50/p99 latency,
// errors, host calls and host session writes per request (from the service's
// own metrics listener), CPU per request of the API processes and of the
// PostgreSQL server, and RSS. Then, when a PostgreSQL server answers
// (BENCH_PG_URL): the service with WORKERS=2 against the minimal baseline
// (bench/baseline.ts) doing the same work as protected GET employee, with
// bearer tokens (autocannon) and with device-bound sessions driven through the
// client kit (every request a fresh DPoP proof), alternated over BENCH_ROUNDS
// rounds (the tables show each side's median run, the closing lines the
// median of the per-round ratios); the same read with tracing on; and how
// long `npm start` and `npm run dev` take to be ready with one core busy
// (`npm run bench -- start` measures only that).
import autocannon, { type Result } from 'autocannon';
import { get as httpGet } from 'node:http';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { BankClient, MemoryKeyStore } from '../client/src/index.js';
import { familyOf, freePort, launch, rssMb, startService, stop, waitFor, type LocalService } from '../scripts/local-service.js';
import { createScratchDatabase } from '../scripts/scratch-database.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
/** Sessions the protected scenarios spread their requests over. */
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 64);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** Restarts of `npm start` timed (half as many of `npm run dev`). */
const START_RESTARTS = Number(process.env.BENCH_START_RESTARTS ?? 5);
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SECRETS = { JWT_SECRET: 'bench-secret-0123456789abcdefghijklmnopqrstuvwxyz', PIN_PEPPER: 'bench-pepper-0123456789abcdefghijklmnopqrstuvwxyz' };
const ALICE = { account: '100000001', pin: '12345' };
const EMPLOYEE = '/api/sample/employee/000010';

interface Row {
  scenario: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  hostCalls?: number;
  sessionWrites?: number;
  /** CPU per request in microseconds: the API processes, and the PostgreSQL server (when it is one). */
  apiCpuUs?: number;
  hostCpuUs?: number;
  rssMb: number;
}

/** What one run of load gives back, whoever drove it. */
interface Load {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
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

/** Counters summed across workers: scrapes the metrics listener until every worker (pid label) has answered. */
async function counters(metrics: string, workers: number): Promise<Record<string, number>> {
  const latest = new Map<string, string>();
  for (let i = 0; i < 100 && latest.size < workers; i++) {
    const text = await getFresh(`${metrics}/metrics`);
    latest.set(/pid="(\d+)"/.exec(text)?.[1] ?? '0', text);
  }
  if (latest.size < workers) throw new Error(`only ${latest.size} of ${workers} workers answered /metrics`);
  const sums: Record<string, number> = {};
  for (const text of latest.values()) {
    // Label values may hold braces (route="GET /api/sample/employee/{empno}"): match to the last "} ".
    for (const [, metric = '', labels = '', value] of text.matchAll(/^(host_calls_total|session_touches_total|http_request_duration_seconds_count)\{(.*)\} (\d+)$/gm)) {
      const name = metric === 'host_calls_total' ? `host:${/name="([^"]+)"/.exec(labels)?.[1]}` : metric;
      sums[name] = (sums[name] ?? 0) + Number(value);
    }
  }
  return sums;
}

function autocannonLoad(options: autocannon.Options, seconds: number): Promise<Load> {
  return new Promise((resolve, reject) => {
    autocannon({ connections: CONNECTIONS, duration: seconds, ...options }, (error, result: Result) => (error ? reject(error) : resolve({
      requests: result.requests.total, rps: Math.round(result.requests.average), p50: result.latency.p50, p99: result.latency.p99,
      errors: result.errors + result.timeouts + result.non2xx,
    })));
  });
}

/**
 * Load through the client kit: CONNECTIONS loops, each taking the next
 * device's client and asking for the employee (a fresh DPoP proof per
 * request, signed by the client), until the time is up.
 */
async function clientLoad(clients: BankClient[], seconds: number): Promise<Load> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (performance.now() < deadline) {
      const client = clients[next++ % clients.length];
      if (!client) return;
      const started = performance.now();
      try {
        await client.employee('000010');
        latencies.push(performance.now() - started);
      } catch {
        errors += 1;
      }
    }
  }));
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0);
  return { requests: latencies.length + errors, rps: Math.round(latencies.length / seconds), p50: at(0.5), p99: at(0.99), errors };
}

interface Target {
  /** The process whose family (itself and its workers) is the API tier. */
  pid: number;
  workers: number;
  /** Where the metrics listener answers; the baseline has none. */
  metrics?: string;
}

const isPostgres = (_pid: number, command: string) => command === 'postgres';
const settle = () => new Promise((r) => setTimeout(r, 1500)); // requests in flight at a cut-off finish

async function measure(name: string, target: Target, load: (seconds: number) => Promise<Load>): Promise<Row> {
  await load(1); // warm-up: JIT, prepared statements, pool
  await settle();
  const family = familyOf(target.pid);
  const before = target.metrics ? await counters(target.metrics, target.workers) : {};
  const [apiBefore, hostBefore] = [cpuSeconds((pid) => family.has(pid)), cpuSeconds(isPostgres)];
  const result = await load(SECONDS);
  const [apiAfter, hostAfter] = [cpuSeconds((pid) => family.has(pid)), cpuSeconds(isPostgres)];
  const [apiSeconds, hostSeconds] = [cpuBetween(apiBefore, apiAfter), cpuBetween(hostBefore, hostAfter)];
  await settle();
  const after = target.metrics ? await counters(target.metrics, target.workers) : {};
  const delta = (key: string) => (after[key] ?? 0) - (before[key] ?? 0);
  // Per request the service completed (its own count), so requests in flight at a cut-off cannot skew it.
  const served = delta('http_request_duration_seconds_count');
  const hostCalls = Object.keys(after).filter((k) => k.startsWith('host:')).reduce((n, k) => n + delta(k), 0);
  return {
    scenario: name, rps: result.rps, p50: result.p50, p99: result.p99, errors: result.errors,
    ...(target.metrics && served ? {
      hostCalls: hostCalls / served,
      sessionWrites: (delta('session_touches_total') + delta('host:login')) / served,
    } : {}),
    apiCpuUs: result.requests ? Math.round(apiSeconds * 1e6 / result.requests) : undefined,
    hostCpuUs: result.requests ? Math.round(hostSeconds * 1e6 / result.requests) : undefined,
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

async function login(base: string): Promise<string> {
  const response = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ALICE) });
  return ((await response.json()) as { token: string }).token;
}

async function bearerSessions(base: string, count: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < count; i += 16) tokens.push(...await Promise.all(Array.from({ length: Math.min(16, count - i) }, () => login(base))));
  return tokens;
}

/**
 * Device-bound sessions made by the client kit, each with a key of its own.
 * Their requests go where `route.to` says (the service, or the baseline for
 * the same read) while naming the service's URL, which both check proofs
 * against: the same client, the same proofs, only the server differs.
 */
async function boundClients(service: string, count: number, route: { to: string }): Promise<BankClient[]> {
  const redirect: typeof fetch = (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    return fetch(url.startsWith(service) && url.endsWith(EMPLOYEE) ? `${route.to}${url.slice(service.length)}` : url, init);
  };
  const clients = Array.from({ length: count }, () => new BankClient({ baseUrl: service, keyStore: new MemoryKeyStore(), fetch: redirect }));
  for (let i = 0; i < count; i += 8) await Promise.all(clients.slice(i, i + 8).map((c) => c.login(ALICE.account, ALICE.pin, { deviceLabel: 'bench' })));
  return clients;
}

function startBenchService(dbUrl: string, workers: number, env: Record<string, string> = {}): Promise<LocalService> {
  return startService({
    DB_URL: dbUrl, WORKERS: String(workers), ...SECRETS, NODE_ENV: 'development', DEMO_DATA: 'true',
    // Every feature on, as in production: access log lines at info (written to a pipe nobody reads).
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info', LOGIN_RATE_PER_MINUTE: '100000', DB_POOL_SIZE: '10',
    TRANSFER_DAILY_COUNT: '1000000', TRANSFER_DAILY_AMOUNT: '9999999999.00', ...env,
  });
}

async function serviceScenarios(dbUrl: string, label: string): Promise<Row[]> {
  const service = await startBenchService(dbUrl, 1);
  try {
    const target: Target = { pid: service.child.pid!, workers: 1, metrics: service.metrics };
    const { base } = service;
    const tokens = await bearerSessions(base, SESSIONS);
    const json = { 'content-type': 'application/json' };
    const bench = (options: autocannon.Options) => (seconds: number) => autocannonLoad(options, seconds);
    return [
      await measure(`login (${label})`, target, bench({ url: `${base}/api/auth/login`, method: 'POST', headers: json, body: JSON.stringify(ALICE) })),
      await measure(`protected GET employee (${label})`, target, bench(withTokens(tokens, { url: `${base}${EMPLOYEE}` }))),
      await measure(`employee list page (${label})`, target, bench(withTokens(tokens, { url: `${base}/api/sample/employee?limit=20&offset=0` }))),
      await measure(`transfer (${label})`, target, bench(withTokens(tokens, {
        url: `${base}/api/transfers`, method: 'POST', headers: json,
        body: JSON.stringify({ bankId: 'DEMOBANK1', fromAccount: ALICE.account, toAccount: '200000001', amount: '0.01' }),
      }))),
      await measure(`account transactions page (${label})`, target, bench(withTokens(tokens, { url: `${base}/api/accounts/${ALICE.account}/transactions?limit=20` }))),
    ];
  } finally {
    await stop(service.child);
  }
}

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

interface Comparison {
  label: string;
  rows: Row[];
  ratio: { rps: number; p99: number; apiCpu: number };
}

/** Alternates the two, so drifts in the machine's speed touch both alike; reports the median of the per-round ratios. */
async function paired(label: string, service: () => Promise<Row>, baseline: () => Promise<Row>): Promise<Comparison> {
  const runs: { service: Row[]; baseline: Row[] } = { service: [], baseline: [] };
  for (let round = 0; round < ROUNDS; round++) {
    runs.service.push(await service());
    runs.baseline.push(await baseline());
  }
  const pairs = runs.service.flatMap((s, i) => {
    const b = runs.baseline[i];
    return b ? [{ rps: s.rps / b.rps, p99: s.p99 / b.p99, apiCpu: (s.apiCpuUs ?? NaN) / (b.apiCpuUs ?? NaN) }] : [];
  });
  console.log(`${label}: rounds (req/s) service ${runs.service.map((r) => r.rps).join(', ')}; baseline ${runs.baseline.map((r) => r.rps).join(', ')}`);
  console.log(`${label}: per round, service / baseline: ${pairs.map((p) => `${(100 * p.rps).toFixed(0)}% p99 ${p.p99.toFixed(2)}×`).join('; ')}`);
  return {
    label, rows: [median(runs.service), median(runs.baseline)],
    ratio: { rps: middle(pairs.map((p) => p.rps)), p99: middle(pairs.map((p) => p.p99)), apiCpu: middle(pairs.map((p) => p.apiCpu)) },
  };
}

/** An OTLP/HTTP endpoint that takes every export and keeps nothing: the cost of tracing without a collector's. */
async function traceSink(): Promise<{ url: string; close(): void }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

/** A baseline (bench/baseline.ts) with 2 processes on a free port, once it answers. */
async function startBaseline(dbUrl: string, env: Record<string, string>): Promise<{ base: string; child: ReturnType<typeof launch> }> {
  const port = await freePort();
  const child = launch(['--import', 'tsx', 'bench/baseline.ts'], { DB_URL: dbUrl, PORT: String(port), ...SECRETS, BASELINE_WORKERS: '2', ...env });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(`${base}/x`, () => true, child); // any answer: it listens
  return { base, child };
}

async function comparisons(dbUrl: string): Promise<Comparison[]> {
  const service = await startBenchService(dbUrl, 2);
  const baseline = await startBaseline(dbUrl, { EXPECTED_ORIGIN: service.base });
  const floor = await startBaseline(dbUrl, { TOKEN_CHECK: 'node-crypto' });
  const sink = await traceSink();
  const traced = await startBenchService(dbUrl, 2, { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url });
  try {
    const baselineBase = baseline.base;
    const tokens = await bearerSessions(service.base, SESSIONS);
    const serviceTarget = { pid: service.child.pid!, workers: 2, metrics: service.metrics };
    const baselineTarget = { pid: baseline.child.pid!, workers: 2 };
    const serviceRead = () => measure('service WORKERS=2: protected GET employee, bearer (PostgreSQL)', serviceTarget,
      (s) => autocannonLoad(withTokens(tokens, { url: `${service.base}${EMPLOYEE}` }), s));
    const bearer = await paired('bearer', serviceRead,
      async () => ({ ...await measure('baseline node:http+pg+jose, 2 processes: same work, bearer', baselineTarget,
        (s) => autocannonLoad(withTokens(tokens, { url: `${baselineBase}${EMPLOYEE}` }), s)), hostCalls: 2, sessionWrites: 0 }));
    const floorRun = await paired('bearer against the floor', serviceRead,
      async () => ({ ...await measure('floor: the baseline checking the token over node:crypto as the service does', { pid: floor.child.pid!, workers: 2 },
        (s) => autocannonLoad(withTokens(tokens, { url: `${floor.base}${EMPLOYEE}` }), s)), hostCalls: 2, sessionWrites: 0 }));
    const route = { to: service.base };
    const clients = await boundClients(service.base, SESSIONS, route);
    const bound = await paired('device-bound (DPoP)',
      () => {
        route.to = service.base;
        return measure('service WORKERS=2: protected GET employee, device-bound via the client kit', serviceTarget, (s) => clientLoad(clients, s));
      },
      async () => {
        route.to = baselineBase;
        return { ...await measure('baseline, 2 processes: same work and the same DPoP proof checks', baselineTarget, (s) => clientLoad(clients, s)), hostCalls: 2, sessionWrites: 0 };
      });
    const tracedTokens = await bearerSessions(traced.base, SESSIONS);
    const tracing = await paired('tracing',
      () => measure('service WORKERS=2: protected GET employee, bearer, tracing on (OTLP to a local sink)',
        { pid: traced.child.pid!, workers: 2, metrics: traced.metrics }, (s) => autocannonLoad(withTokens(tracedTokens, { url: `${traced.base}${EMPLOYEE}` }), s)),
      () => measure('service WORKERS=2: the same, tracing off', serviceTarget, (s) => autocannonLoad(withTokens(tokens, { url: `${service.base}${EMPLOYEE}` }), s)));
    return [bearer, floorRun, bound, tracing];
  } finally {
    await stop(service.child);
    await stop(traced.child);
    await stop(baseline.child);
    await stop(floor.child);
    sink.close();
  }
}

/** The machine's other work while start times are measured: one core kept busy (a loop in its own process). */
function busyCore(): { stop(): Promise<void> } {
  const child = launch(['-e', 'for (;;);'], {});
  return { stop: () => stop(child) };
}

const seconds = (ms: number): string => (ms / 1000).toFixed(1);

/**
 * How long `npm start` and `npm run dev` take from the command to the first
 * 200 of /health/ready, on the embedded host, with one core kept busy: the
 * first start on a new data folder, then restarts on it. The commands run as
 * a user types them (npm included); `npm start` finds the build fresh (it is
 * brought up to date first, unmeasured).
 */
async function startTimes(): Promise<string[]> {
  const { build, staleness } = await import(new URL('../scripts/build.mjs', import.meta.url).href) as { build(): void; staleness(): string | null };
  if (staleness()) build();
  const dir = mkdtempSync(join(tmpdir(), 'api-bench-start-'));
  const busy = busyCore();
  const readyMs = async (script: string[], folder: string): Promise<number> => {
    const env = { DB_URL: `pglite:${join(dir, folder)}`, NODE_ENV: 'development', LOG_LEVEL: 'warn' };
    const service = await startService(env, script, 'npm');
    await stop(service.child);
    return service.readyMs;
  };
  try {
    const lines: string[] = [];
    const measure = async (label: string, script: string[], restarts: number): Promise<void> => {
      const first = await readyMs(script, label);
      const again: number[] = [];
      for (let i = 0; i < restarts; i++) again.push(await readyMs(script, label));
      lines.push(`${label}: first start on a new data folder ${seconds(first)} s; restart median ${seconds(middle(again))} s, `
        + `slowest ${seconds(Math.max(...again))} s (${restarts} restarts)`);
    };
    await measure('npm start', ['start'], START_RESTARTS);
    await measure('npm run dev', ['run', 'dev'], Math.ceil(START_RESTARTS / 2));
    return lines;
  } finally {
    await busy.stop();
    rmSync(dir, { recursive: true, force: true });
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
    + `${SECONDS} s per scenario, ${CONNECTIONS} connections, the load generator on the same cores as the service`);
  const rows: Row[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'api-bench-'));
  try {
    rows.push(...await serviceScenarios(process.env.DB_URL ?? `pglite:${dir}/host`, process.env.DB_URL ? 'DB_URL' : 'embedded'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const database = await createScratchDatabase(PG_URL, 'api_bench');
  const compared: Comparison[] = [];
  if (database) {
    try {
      compared.push(...await comparisons(database.url));
    } finally {
      await database.drop();
    }
  } else {
    console.log(`(no PostgreSQL at ${PG_URL}: the WORKERS=2 comparisons with the baseline are skipped)`);
  }
  print([...rows, ...compared.flatMap((c) => c.rows)]);
  for (const { label, ratio } of compared) {
    console.log(`${label}, first / second row, median of ${ROUNDS} paired rounds: ${(100 * ratio.rps).toFixed(0)}% of the requests/s, `
      + `p99 ${ratio.p99.toFixed(2)}×, API CPU per request ${ratio.apiCpu.toFixed(2)}×`);
  }
  await printStartTimes();
}

async function printStartTimes(): Promise<void> {
  console.log(`\nReady (/health/ready 200) after the command, embedded host, one of the ${cpus().length} cores kept busy:`);
  for (const line of await startTimes()) console.log(`- ${line}`);
}

// `npm run bench -- start`: the start times alone.
(process.argv[2] === 'start' ? printStartTimes() : main()).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
