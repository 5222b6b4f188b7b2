// `npm run bench`: starts the service itself, drives it on loopback for a
// bounded time per scenario, and prints tables: requests/s, p50/p99 latency,
// errors, host calls and host session writes per request (from the service's
// own metrics listener), CPU per request of the API processes and of the
// PostgreSQL server, and RSS. Then, when a PostgreSQL server answers
// (BENCH_PG_URL): the service with WORKERS=2 against the minimal baseline
// (bench/baseline.ts) doing the same work as protected GET employee with
// bearer tokens, and against the floor (the same file with every check over
// node:crypto) for bearer tokens, device-bound reads and signed transfers
// (every request a fresh DPoP proof, signed before the load starts),
// alternated over BENCH_ROUNDS rounds after BENCH_WARMUP_ROUNDS uncounted
// ones (the tables show each side's median run,
// the closing lines the median of the per-round ratios); the device-bound read
// also beside the floor's read as a Koa route (what the named framework costs),
// and at one request rate for both sides (host CPU per request at equal load);
// the same read with tracing on; and how
// long `npm start` and `npm run dev` take to be ready with one core busy
// (`npm run bench -- start` measures only that). `npm run bench -- host`: the
// PostgreSQL server's CPU per read by request rate (bench/host-rate.ts).
import autocannon, { type Result } from 'autocannon';
import { get as httpGet } from 'node:http';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { cpuBetween, cpuSeconds, isPostgres, middle } from './cpu.js';
import { boundSessions, currentNonce, type BoundSession } from './devices.js';
import { hostCpuByRate } from './host-rate.js';
import { instructionsPerRead, printCounts } from './instructions.js';
import { familyOf, freePort, launch, rssMb, startService, stop, waitFor, type LocalService } from '../scripts/local-service.js';
import { createScratchDatabase } from '../scripts/scratch-database.js';
import pg from 'pg';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
/** Sessions the protected scenarios spread their requests over. */
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 64);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** Rounds of each side run before a comparison's counted rounds, so the JIT has settled (steady state, as in production). */
const WARMUP_ROUNDS = Number(process.env.BENCH_WARMUP_ROUNDS ?? 1);
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

/** Drives a server for `seconds`: as fast as it answers, or at `rate` requests per second in all. */
type Driver = (seconds: number, rate?: number) => Promise<Load>;

function autocannonLoad(options: autocannon.Options, seconds: number, rate?: number): Promise<Load> {
  return new Promise((resolve, reject) => {
    autocannon({ connections: CONNECTIONS, duration: seconds, ...options, ...(rate ? { overallRate: rate } : {}) }, (error, result: Result) => (error ? reject(error) : resolve({
      requests: result.requests.total, rps: Math.round(result.requests.average), p50: result.latency.p50, p99: result.latency.p99,
      errors: result.errors + result.timeouts + result.non2xx,
    })));
  });
}

interface Target {
  /** The process whose family (itself and its workers) is the API tier. */
  pid: number;
  workers: number;
  /** Where the metrics listener answers; the baseline has none. */
  metrics?: string;
}

const settle = () => new Promise((r) => setTimeout(r, 1500)); // requests in flight at a cut-off finish

async function measure(name: string, target: Target, load: Driver, rate?: number): Promise<Row> {
  await load(1, rate); // warm-up: JIT, prepared statements, pool
  await settle();
  const family = familyOf(target.pid);
  const before = target.metrics ? await counters(target.metrics, target.workers) : {};
  const [apiBefore, hostBefore] = [cpuSeconds((pid) => family.has(pid)), cpuSeconds(isPostgres)];
  const result = await load(SECONDS, rate);
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

/** One request's own headers and body, signed ahead. */
interface Signed { headers: Record<string, string>; body?: string }

/**
 * Load whose every request carries a proof (and for a transfer, a signature)
 * made before the load starts: the load generator signs nothing while the
 * service is measured. Supply is sized from the last run of the same load
 * (× 2.5, at least 2,000 a second), or from the rate asked; should a run outrun it, the surplus
 * requests reuse proofs and are refused, which shows as errors, never as speed.
 */
function presigned(url: string, method: 'GET' | 'POST', named: string, sessions: BoundSession[], sign: (session: BoundSession, nonce: string) => Signed): Driver {
  let lastRps = 4000;
  return async (seconds, rate) => {
    const first = sessions[0];
    if (!first) throw new Error('no sessions');
    const nonce = await currentNonce(named, first);
    const supply = rate ? 1.5 * rate * seconds : 2.5 * lastRps * seconds;
    const prepared = Array.from({ length: Math.ceil(supply) + 100 }, (_, i) => sign(sessions[i % sessions.length] ?? first, nonce));
    let next = 0;
    const load = await autocannonLoad({
      url, method,
      requests: [{
        setupRequest: (request) => {
          const { headers, body } = prepared[next++ % prepared.length] ?? { headers: {} };
          return { ...request, headers: { ...(request.headers as Record<string, string>), ...headers }, ...(body === undefined ? {} : { body }) };
        },
      }],
    }, seconds, rate);
    if (next > prepared.length) console.log(`(${url}: ${next - prepared.length} requests beyond the ${prepared.length} signed ahead were refused as replays)`);
    if (seconds > 1 && !rate) lastRps = Math.max(2000, load.rps);
    return load;
  };
}

/**
 * A device-bound GET of the employee, sent to `to`, its proofs naming the
 * service at `named` (the floor checks proofs against the service's origin):
 * the same sessions and the same kind of proofs, only the server differs.
 */
const boundRead = (to: string, named: string, sessions: BoundSession[]) => presigned(`${to}${EMPLOYEE}`, 'GET', named, sessions, (session, nonce) => ({
  headers: { authorization: `DPoP ${session.token}`, dpop: session.device.proof('GET', `${named}${EMPLOYEE}`, nonce, session.token) },
}));

/** A signed transfer of `amount` from Alice to Bob, sent to `to` and named for `named` (the PIN too: step-up above STEP_UP_AMOUNT). */
const signedTransfer = (to: string, named: string, sessions: BoundSession[], amount: string, pin?: string) =>
  presigned(`${to}/api/transfers`, 'POST', named, sessions, (session, nonce) => {
    const idempotencyKey = randomUUID();
    const fields = { fromAccount: ALICE.account, toAccount: '200000001', amount };
    return {
      headers: {
        'content-type': 'application/json', authorization: `DPoP ${session.token}`, 'idempotency-key': idempotencyKey,
        dpop: session.device.proof('POST', `${named}/api/transfers`, nonce, session.token),
        'transfer-signature': session.device.transferSignature({ ...fields, currency: 'EUR', idempotencyKey }),
      },
      body: JSON.stringify({ bankId: 'DEMOBANK1', ...fields, ...(pin ? { pin } : {}) }),
    };
  });

/** The service as `npm start` runs it (compiled JavaScript, rebuilt first if a source changed), without npm in between. */
function startBenchService(dbUrl: string, workers: number, env: Record<string, string> = {}): Promise<LocalService> {
  return startService({
    DB_URL: dbUrl, WORKERS: String(workers), ...SECRETS, NODE_ENV: 'development', DEMO_DATA: 'true',
    // Every feature on, as in production: access log lines at info (written to a pipe nobody reads).
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info', LOGIN_RATE_PER_MINUTE: '100000', DB_POOL_SIZE: '10',
    TRANSFER_DAILY_COUNT: '1000000', TRANSFER_DAILY_AMOUNT: '9999999999.00', ...env,
  }, ['scripts/start.mjs']);
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

/** The run with the median requests/s (or of `by`): one noisy round (a busy neighbour on a shared machine) cannot decide. */
function median(rows: Row[], by: (row: Row) => number = (row) => row.rps): Row {
  const row = [...rows].sort((a, b) => by(a) - by(b))[Math.floor(rows.length / 2)];
  if (!row) throw new Error('no runs to take a median of');
  return row;
}


interface Comparison {
  label: string;
  /** The median runs to print in the table (a side shared with an earlier comparison is printed there). */
  rows: Row[];
  ratio: { rps: number; p99: number; apiCpu: number; hostCpu: number };
}

/**
 * Runs the sides in turn, round after round, so drifts in the machine's speed
 * touch all alike, each round starting one side later (no side always goes
 * first): each side's runs, in round order. Unless the sides have just run
 * this load, each first runs WARMUP_ROUNDS rounds that are printed and not
 * counted: V8 compiles a process's hot code in its first seconds under a load,
 * and a larger program takes longer, so a first round measured the compiler as
 * much as the server (58% against 80-81% in the next rounds of the same run).
 */
async function alternated(sides: (() => Promise<Row>)[], { warm = false } = {}): Promise<Row[][]> {
  for (let round = 0; round < (warm ? 0 : WARMUP_ROUNDS); round++) {
    for (const side of sides) {
      const row = await side();
      console.log(`(warm-up, not counted: ${row.scenario}: ${row.rps} req/s, API CPU ${row.apiCpuUs ?? '?'} µs/req)`);
    }
  }
  const runs: Row[][] = sides.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < sides.length; k++) {
      const i = (round + k) % sides.length;
      runs[i]?.push(await (sides[i] as () => Promise<Row>)());
    }
  }
  return runs;
}

/** The first side against the second: the median of the per-round ratios. */
function compare(label: string, first: Row[], second: Row[], rows: Row[] = [median(first), median(second)]): Comparison {
  const pairs = first.flatMap((s, i) => {
    const b = second[i];
    const per = (n: number | undefined, d: number | undefined) => (n ?? NaN) / (d ?? NaN);
    return b ? [{ rps: s.rps / b.rps, p99: s.p99 / b.p99, apiCpu: per(s.apiCpuUs, b.apiCpuUs), hostCpu: per(s.hostCpuUs, b.hostCpuUs) }] : [];
  });
  console.log(`${label}: rounds (req/s) first ${first.map((r) => r.rps).join(', ')}; second ${second.map((r) => r.rps).join(', ')}`);
  console.log(`${label}: per round, first / second: ${pairs.map((p) => `${(100 * p.rps).toFixed(0)}% p99 ${p.p99.toFixed(2)}× host CPU ${p.hostCpu.toFixed(2)}×`).join('; ')}`);
  const mid = (key: keyof (typeof pairs)[number]) => middle(pairs.map((p) => p[key]));
  return { label, rows, ratio: { rps: mid('rps'), p99: mid('p99'), apiCpu: mid('apiCpu'), hostCpu: mid('hostCpu') } };
}

async function paired(label: string, service: () => Promise<Row>, baseline: () => Promise<Row>): Promise<Comparison> {
  const [first = [], second = []] = await alternated([service, baseline]);
  return compare(label, first, second);
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

/** Step-up above this in the comparisons: the bench's signed transfers are 0.01, the stepped-up ones 0.06. */
const BENCH_STEP_UP_AMOUNT = '0.05';
/** What both sides are told about transfers, so their host calls are the same. */
const TRANSFER_SETTINGS = { STEP_UP_AMOUNT: BENCH_STEP_UP_AMOUNT, TRANSFER_DAILY_COUNT: '1000000', TRANSFER_DAILY_AMOUNT: '9999999999.00' };

/** Alice's current account, topped up so the transfers of every round find the money. */
async function fund(dbUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  try {
    await client.query("UPDATE account SET balance = 1000000000.00 WHERE account_id = '100000001'");
  } finally {
    await client.end();
  }
}

async function comparisons(dbUrl: string, only?: 'device-bound'): Promise<Comparison[]> {
  const service = await startBenchService(dbUrl, 2, { STEP_UP_AMOUNT: BENCH_STEP_UP_AMOUNT });
  const baseline = await startBaseline(dbUrl, { EXPECTED_ORIGIN: service.base });
  const floor = await startBaseline(dbUrl, { CHECKS: 'node-crypto', EXPECTED_ORIGIN: service.base, ...TRANSFER_SETTINGS });
  const koaFloor = await startBaseline(dbUrl, { CHECKS: 'node-crypto', FRAMEWORK: 'koa', EXPECTED_ORIGIN: service.base });
  const sink = await traceSink();
  const traced = await startBenchService(dbUrl, 2, { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url });
  try {
    await fund(dbUrl);
    const tokens = await bearerSessions(service.base, SESSIONS);
    const serviceTarget = { pid: service.child.pid!, workers: 2, metrics: service.metrics };
    const floorTarget = { pid: floor.child.pid!, workers: 2 };
    const baselineRow = (row: Row): Row => ({ ...row, hostCalls: 2, sessionWrites: 0 });
    const serviceRead = () => measure('service WORKERS=2: protected GET employee, bearer (PostgreSQL)', serviceTarget,
      (s) => autocannonLoad(withTokens(tokens, { url: `${service.base}${EMPLOYEE}` }), s));
    const bearerPairs = only ? [] : [await paired('bearer', serviceRead,
      async () => baselineRow(await measure('baseline node:http+pg+jose, 2 processes: same work, bearer', { pid: baseline.child.pid!, workers: 2 },
        (s) => autocannonLoad(withTokens(tokens, { url: `${baseline.base}${EMPLOYEE}` }), s)))), await paired('bearer against the floor', serviceRead,
      async () => baselineRow(await measure('floor node:http+pg+node:crypto, 2 processes: same work, bearer', floorTarget,
        (s) => autocannonLoad(withTokens(tokens, { url: `${floor.base}${EMPLOYEE}` }), s))))];
    // Device-bound: the same sessions and proofs for both; the proofs name the service's URL, which the floor checks against too.
    const sessions = await boundSessions(service.base, ALICE, SESSIONS);
    const loadsAt = (to: string) => ({
      read: boundRead(to, service.base, sessions),
      transfer: signedTransfer(to, service.base, sessions, '0.01'),
      stepUp: signedTransfer(to, service.base, sessions, '0.06', ALICE.pin),
    });
    const [atService, atFloor] = [loadsAt(service.base), loadsAt(floor.base)];
    const serviceBound = (rate?: number) => measure(`service WORKERS=2: protected GET employee, device-bound (a fresh DPoP proof per request)${rate ? `, at ${rate} req/s` : ''}`,
      serviceTarget, atService.read, rate);
    const floorBound = async (rate?: number) => baselineRow(await measure(`floor, 2 processes: the same read and every DPoP check over node:crypto${rate ? `, at ${rate} req/s` : ''}`,
      floorTarget, atFloor.read, rate));
    const atKoaFloor = boundRead(koaFloor.base, service.base, sessions);
    const koaBound = async (rate?: number) => baselineRow(await measure(`the floor's read as a Koa route (Koa, @koa/router, koa-helmet, yup), 2 processes${rate ? `, at ${rate} req/s` : ''}`,
      { pid: koaFloor.child.pid!, workers: 2 }, atKoaFloor, rate));
    const [boundRuns = [], floorRuns = [], koaRuns = []] = await alternated([() => serviceBound(), () => floorBound(), () => koaBound()]);
    const bound = compare('device-bound read against the floor', boundRuns, floorRuns);
    const koaVsFloor = compare('the floor as a Koa route against the floor', koaRuns, floorRuns, [median(koaRuns)]);
    const boundVsKoaFloor = compare('device-bound read against the floor as a Koa route', boundRuns, koaRuns, []);
    // Host CPU per request depends on the rate (a backend that sleeps between queries wakes at a cost), so all at one rate
    // the service sustains; the Koa route sends the floor's very statements, so what its host CPU differs by is the API tier beside it.
    const rate = Math.round(0.8 * middle(boundRuns.map((r) => r.rps)) / 100) * 100;
    if (!rate) throw new Error(`the device-bound read reached ${middle(boundRuns.map((r) => r.rps))} req/s: too little to measure at a rate`);
    const [boundAtRate = [], floorAtRate = [], koaAtRate = []] = await alternated([() => serviceBound(rate), () => floorBound(rate), () => koaBound(rate)],
      { warm: true }); // the same processes and requests as the rounds just run
    const byHostCpu = (row: Row) => row.hostCpuUs ?? NaN; // at one rate, the runs differ in CPU only
    for (const row of [...boundAtRate, ...floorAtRate, ...koaAtRate]) {
      if (row.rps < 0.95 * rate) console.log(`(${row.scenario}: ${row.rps} req/s, short of the rate asked: its CPU per request is at another rate)`);
    }
    const equalLoad = compare(`device-bound read against the floor, both at ${rate} req/s`, boundAtRate, floorAtRate,
      [median(boundAtRate, byHostCpu), median(floorAtRate, byHostCpu)]);
    const koaAtEqualLoad = compare(`the floor as a Koa route against the floor, both at ${rate} req/s`, koaAtRate, floorAtRate, [median(koaAtRate, byHostCpu)]);
    const transfers = await paired('signed transfer against the floor',
      () => measure('service WORKERS=2: signed transfer (DPoP proof + transfer signature), below the step-up amount', serviceTarget, atService.transfer),
      async () => ({ ...await measure('floor, 2 processes: the same checks and the same transfer procedure', floorTarget, atFloor.transfer), hostCalls: 2, sessionWrites: 0 }));
    const stepUps = await paired('signed transfer with PIN step-up against the floor',
      () => measure('service WORKERS=2: signed transfer with the PIN again (step-up, scrypt)', serviceTarget, atService.stepUp),
      async () => ({ ...await measure('floor, 2 processes: the same, scrypt included', floorTarget, atFloor.stepUp), hostCalls: 2, sessionWrites: 0 }));
    const deviceComparisons = [bound, koaVsFloor, boundVsKoaFloor, equalLoad, koaAtEqualLoad, transfers, stepUps];
    if (only) return deviceComparisons;
    // Fresh sessions for both: the first ones have idled out while the device-bound pairs ran.
    const [tracedTokens, untracedTokens] = [await bearerSessions(traced.base, SESSIONS), await bearerSessions(service.base, SESSIONS)];
    const tracing = await paired('tracing',
      () => measure('service WORKERS=2: protected GET employee, bearer, tracing on (OTLP to a local sink)',
        { pid: traced.child.pid!, workers: 2, metrics: traced.metrics }, (s) => autocannonLoad(withTokens(tracedTokens, { url: `${traced.base}${EMPLOYEE}` }), s)),
      () => measure('service WORKERS=2: the same, tracing off', serviceTarget,
        (s) => autocannonLoad(withTokens(untracedTokens, { url: `${service.base}${EMPLOYEE}` }), s)));
    return [...bearerPairs, ...deviceComparisons, tracing];
  } finally {
    await stop(service.child);
    await stop(traced.child);
    await stop(baseline.child);
    await stop(floor.child);
    await stop(koaFloor.child);
    sink.close();
  }
}

/** The compiled service (dist/) brought up to date, as `npm start` does before it starts. */
async function freshBuild(): Promise<void> {
  const { build, staleness } = await import(new URL('../scripts/build.mjs', import.meta.url).href) as { build(): void; staleness(): string | null };
  if (staleness()) build();
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
  await freshBuild();
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

async function main(only?: 'device-bound'): Promise<void> {
  console.log(`bench: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; `
    + `${SECONDS} s per scenario, ${CONNECTIONS} connections, the load generator on the same cores as the service`);
  const rows: Row[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'api-bench-'));
  try {
    if (!only) rows.push(...await serviceScenarios(process.env.DB_URL ?? `pglite:${dir}/host`, process.env.DB_URL ? 'DB_URL' : 'embedded'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const database = await createScratchDatabase(PG_URL, 'api_bench');
  const compared: Comparison[] = [];
  if (database) {
    try {
      compared.push(...await comparisons(database.url, only));
    } finally {
      await database.drop();
    }
  } else {
    console.log(`(no PostgreSQL at ${PG_URL}: the WORKERS=2 comparisons with the baseline are skipped)`);
  }
  print([...rows, ...compared.flatMap((c) => c.rows)]);
  for (const { label, ratio } of compared) {
    console.log(`${label}, median of ${ROUNDS} paired rounds: ${(100 * ratio.rps).toFixed(0)}% of the requests/s, `
      + `p99 ${ratio.p99.toFixed(2)}×, API CPU per request ${ratio.apiCpu.toFixed(2)}×, PostgreSQL CPU per request ${ratio.hostCpu.toFixed(2)}×`);
  }
  if (!only) await printStartTimes();
}

async function printStartTimes(): Promise<void> {
  console.log(`\nReady (/health/ready 200) after the command, embedded host, one of the ${cpus().length} cores kept busy:`);
  for (const line of await startTimes()) console.log(`- ${line}`);
}

/** `npm run bench -- host`: the service lays out a scratch database and logs its sessions in, then plain pg reads them at several rates (bench/host-rate.ts). */
async function hostByRate(): Promise<void> {
  const database = await createScratchDatabase(PG_URL, 'api_bench');
  if (!database) throw new Error(`no PostgreSQL at ${PG_URL} (BENCH_PG_URL)`);
  try {
    const service = await startBenchService(database.url, 1);
    try {
      await bearerSessions(service.base, SESSIONS);
    } finally {
      await stop(service.child);
    }
    await hostCpuByRate(database.url);
  } finally {
    await database.drop();
  }
}

/** `npm run bench -- instructions`: a device-bound read's instructions on each side, counted by callgrind (bench/instructions.ts). */
async function instructions(): Promise<void> {
  await freshBuild(); // the service is counted as npm start runs it: compiled
  const database = await createScratchDatabase(PG_URL, 'api_bench');
  if (!database) throw new Error(`no PostgreSQL at ${PG_URL} (BENCH_PG_URL)`);
  try {
    printCounts(await instructionsPerRead(database.url, { secrets: SECRETS, customer: ALICE, sessions: SESSIONS, path: EMPLOYEE }));
  } finally {
    await database.drop();
  }
}

// `npm run bench -- start`: the start times alone; `-- device-bound`: the device-bound comparisons alone; `-- host`: host CPU by rate;
// `-- instructions`: instructions per device-bound read.
const only = process.argv[2];
const modes: Record<string, () => Promise<void>> = { start: printStartTimes, 'device-bound': () => main('device-bound'), host: hostByRate, instructions };
(modes[only ?? ''] ?? (() => main()))().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
