// `npm run bench -- instructions`: the instructions a device-bound read costs,
// counted by valgrind's callgrind rather than timed, for the service, the
// floor's read as a Koa route and the floor (bench/baseline.ts), one process
// each. A count does not move with what else the machine is doing, so it
// tells apart changes of a few percent that this machine's timings (±20%
// between runs) cannot. Each side runs under callgrind with instrumentation
// off through a warm-up (the JIT's tiers settle), then counts a fixed number
// of requests: the main thread (JavaScript, the HTTP parser, OpenSSL's
// signature check) apart from the other threads (V8's garbage collection
// helpers and optimising compiler, still busy after the warm-up at
// callgrind's pace, and less repeatable than the main thread).
// What a count does not show is what an instruction costs: cache misses and
// branch mispredictions, which BENCH_INSTRUCTIONS_CACHE=1 has callgrind
// simulate (a model, not this CPU's counters, which this VM does not offer).
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { boundSessions, currentNonce, type BoundSession } from './devices.js';
import { freePort, startService, stop, waitFor } from '../scripts/local-service.js';

const WARM_UP = Number(process.env.BENCH_INSTRUCTIONS_WARM_UP ?? 8000);
const COUNTED = Number(process.env.BENCH_INSTRUCTIONS_COUNTED ?? 2000);
/** BENCH_INSTRUCTIONS_CACHE=1: callgrind also simulates the caches and branch predictor (about twice as slow). */
const SIMULATE = process.env.BENCH_INSTRUCTIONS_CACHE === '1';
const CONNECTIONS = 4;

/** What the bench reads, as bench/run.ts defines it for every scenario: whose sessions, how many, and which path. */
export interface Workload {
  secrets: Record<string, string>;
  customer: { account: string; pin: string };
  sessions: number;
  path: string;
}

/** OpenSSL's own functions (statically linked into node): the ECDSA check, SHA-256 and HMAC. */
const OPENSSL = /ecp_nistz256|sha256_block|sha512_block|^\S*bn_|BN_|EVP_|ossl_|OPENSSL_|CRYPTO_|EC_|ECDSA_|HMAC|SHA256/;

interface Side { name: string; args: string[]; env: (port: number) => Promise<Record<string, string>>; ready: string }

export interface Count {
  side: string;
  /** Thousands of instructions per request: the main thread, of which OpenSSL, and all other threads. */
  main: number;
  openssl: number;
  others: number;
  /** With SIMULATE, the main thread's simulated misses per request: instruction and data L1, last level, mispredicted branches. */
  misses?: { l1i: number; l1d: number; last: number; branches: number };
}

function requireValgrind(): void {
  // callgrind_annotate --version exits 255 after printing it: only a command that cannot start counts as missing.
  const missing = ['valgrind', 'callgrind_control', 'callgrind_annotate'].filter((command) => spawnSync(command, ['--version'], { stdio: 'ignore' }).error);
  if (missing.length) throw new Error(`npm run bench -- instructions needs valgrind's ${missing.join(', ')}: apt-get install valgrind`);
}

/** Device-bound GETs of `path`, each with a fresh proof naming `base`, CONNECTIONS at a time; every answer must be 200. */
async function drive(base: string, path: string, count: number, sessions: BoundSession[], nonceFrom: string): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const first = sessions[0];
  if (!first) throw new Error('no sessions');
  let nonce = await currentNonce(nonceFrom, first);
  let nonceAt = Date.now();
  let next = 0;
  const refused: number[] = [];
  const get = (session: BoundSession) => new Promise<number>((resolve, reject) => {
    const headers = { authorization: `DPoP ${session.token}`, dpop: session.device.proof('GET', `${base}${path}`, nonce, session.token) };
    request(`${base}${path}`, { agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject).end();
  });
  try {
    await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
      while (next < count) {
        const session = sessions[next++ % sessions.length] ?? first;
        if (Date.now() - nonceAt > 20_000) [nonce, nonceAt] = [await currentNonce(nonceFrom, first), Date.now()];
        const status = await get(session);
        if (status !== 200) refused.push(status);
      }
    }));
  } finally {
    agent.destroy();
  }
  if (refused.length) throw new Error(`${base}: ${refused.length} of ${count} reads refused (first: ${refused[0]})`);
}

/** A dump's totals by event (Ir, and with the simulation I1mr, D1mr, ...). */
function totals(file: string): Record<string, number> {
  const text = readFileSync(file, 'utf8');
  const events = /^events: (.+)$/m.exec(text)?.[1]?.split(' ') ?? [];
  const values = /^(?:summary|totals): (.+)$/m.exec(text)?.[1]?.split(' ').map(Number) ?? [];
  return Object.fromEntries(events.map((event, i) => [event, values[i] ?? NaN]));
}

/** Self cost (instructions) of the functions matching `pattern` in a callgrind dump. */
function costOf(file: string, pattern: RegExp): number {
  const text = execFileSync('callgrind_annotate', ['--threshold=100', file], { encoding: 'utf8', maxBuffer: 256 * 2 ** 20 });
  let matching = 0;
  for (const line of text.split('\n')) {
    // Instructions first, then (with the simulation) the other events' columns, then file:function.
    const row = /^\s*([\d,]+) \(\s*[\d.]+%\)\s.*?\S*?:(\S+)/.exec(line);
    if (row && pattern.test(row[2] ?? '')) matching += Number((row[1] ?? '0').replaceAll(',', ''));
  }
  return matching;
}

async function count(side: Side, workload: Workload, nonceFrom: string): Promise<Count> {
  // Sessions of its own, logged in now: a slow count outlasts the idle timeout of sessions made for an earlier side.
  const sessions = await boundSessions(nonceFrom, workload.customer, workload.sessions);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const out = mkdtempSync(join(tmpdir(), 'api-bench-callgrind-'));
  const child: ChildProcess = spawn('valgrind', [
    '--tool=callgrind', '--instr-atstart=no', '--separate-threads=yes', '--smc-check=all-non-file', // V8 writes code at run time
    ...(SIMULATE ? ['--cache-sim=yes', '--branch-sim=yes'] : []),
    `--callgrind-out-file=${join(out, 'callgrind.%p')}`, process.execPath, ...side.args,
  ], { env: { ...process.env, ...await side.env(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000); });
  try {
    await waitFor(`${base}${side.ready}`, () => true, child).catch((error: unknown) => {
      throw new Error(`${side.name} did not start under valgrind: ${stderr}`, { cause: error });
    });
    await drive(base, workload.path, WARM_UP, sessions, nonceFrom);
    execFileSync('callgrind_control', ['--instr=on', String(child.pid)], { stdio: 'ignore' });
    await drive(base, workload.path, COUNTED, sessions, nonceFrom);
    execFileSync('callgrind_control', ['--dump', String(child.pid)], { stdio: 'ignore' });
    const dumps = readdirSync(out).filter((f) => /-\d+$/.test(f));
    const mainDump = dumps.find((f) => f.endsWith('-01'));
    if (!mainDump) throw new Error(`${side.name}: callgrind wrote no dump of the main thread (${dumps.join(', ') || 'none'})`);
    const main = totals(join(out, mainDump));
    const others = dumps.filter((f) => f !== mainDump).reduce((sum, f) => sum + (totals(join(out, f)).Ir ?? 0), 0);
    const perRequest = (n = NaN) => n / COUNTED / 1000;
    return {
      side: side.name, main: perRequest(main.Ir), openssl: perRequest(costOf(join(out, mainDump), OPENSSL)), others: perRequest(others),
      ...(SIMULATE ? {
        misses: {
          l1i: perRequest(main.I1mr), l1d: perRequest((main.D1mr ?? NaN) + (main.D1mw ?? NaN)),
          last: perRequest((main.ILmr ?? NaN) + (main.DLmr ?? NaN) + (main.DLmw ?? NaN)), branches: perRequest((main.Bcm ?? NaN) + (main.Bim ?? NaN)),
        },
      } : {}),
    };
  } finally {
    child.kill('SIGKILL');
    await new Promise((resolve) => (child.exitCode === null && child.signalCode === null ? child.once('exit', resolve) : resolve(null)));
    rmSync(out, { recursive: true, force: true });
  }
}

/** Counts the three sides on a scratch database `dbUrl` that the service lays out; prints a table and the ratios. */
export async function instructionsPerRead(dbUrl: string, workload: Workload): Promise<Count[]> {
  requireValgrind();
  const { secrets } = workload;
  const serviceEnv = { DB_URL: dbUrl, ...secrets, NODE_ENV: 'development', DEMO_DATA: 'true', LOGIN_RATE_PER_MINUTE: '100000', DB_POOL_SIZE: '10', WORKERS: '1' };
  // A service of its own logs the sessions in and names the nonce; the counted sides share its secret and database, so they take both.
  const front = await startService({ ...serviceEnv, LOG_LEVEL: 'warn' }, ['dist/app/server.js']);
  try {
    const floor = (framework: Record<string, string>) => async (port: number) => ({
      DB_URL: dbUrl, PORT: String(port), ...secrets, BASELINE_WORKERS: '1', CHECKS: 'node-crypto', EXPECTED_ORIGIN: `http://127.0.0.1:${port}`, ...framework,
    });
    const sides: Side[] = [
      {
        name: 'service (WORKERS=1, access log at info)', args: ['dist/app/server.js'], ready: '/health/ready',
        env: async (port) => ({ ...serviceEnv, LOG_LEVEL: 'info', PORT: String(port), METRICS_PORT: String(await freePort()), PUBLIC_ORIGIN: `http://127.0.0.1:${port}` }),
      },
      { name: "the floor's read as a Koa route", args: ['--import', 'tsx', 'bench/baseline.ts'], ready: '/x', env: floor({ FRAMEWORK: 'koa' }) },
      { name: 'the floor (node:http)', args: ['--import', 'tsx', 'bench/baseline.ts'], ready: '/x', env: floor({}) },
    ];
    const counts: Count[] = [];
    for (const side of sides) {
      counts.push(await count(side, workload, front.base));
      console.log(`(${side.name}: counted)`);
    }
    return counts;
  } finally {
    await stop(front.child);
  }
}

export function printCounts(counts: Count[]): void {
  console.log(`\nInstructions per device-bound read (callgrind, thousands; ${COUNTED} reads counted after ${WARM_UP} uncounted, ${CONNECTIONS} connections, one process each):\n`);
  console.log('| side | main thread | of it OpenSSL | main thread without OpenSSL | other threads (GC, compiler) |');
  console.log('|---|---:|---:|---:|---:|');
  for (const c of counts) console.log(`| ${c.side} | ${c.main.toFixed(0)} | ${c.openssl.toFixed(0)} | ${(c.main - c.openssl).toFixed(0)} | ${c.others.toFixed(0)} |`);
  if (counts.some((c) => c.misses)) {
    console.log('\nSimulated misses per read on the main thread (thousands; callgrind\'s model of this machine\'s caches):\n');
    console.log('| side | L1 instruction | L1 data | last level | mispredicted branches |');
    console.log('|---|---:|---:|---:|---:|');
    for (const { side, misses: m } of counts) if (m) console.log(`| ${side} | ${m.l1i.toFixed(1)} | ${m.l1d.toFixed(1)} | ${m.last.toFixed(2)} | ${m.branches.toFixed(1)} |`);
  }
  const [service, koa, floor] = counts;
  if (!service || !koa || !floor) return;
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  console.log(`\nservice / floor: main thread ${ratio(service.main, floor.main)}, without OpenSSL ${ratio(service.main - service.openssl, floor.main - floor.openssl)}`);
  console.log(`service / Koa route: main thread ${ratio(service.main, koa.main)}, without OpenSSL ${ratio(service.main - service.openssl, koa.main - koa.openssl)}`);
  console.log(`Koa route / floor: main thread ${ratio(koa.main, floor.main)}, without OpenSSL ${ratio(koa.main - koa.openssl, floor.main - floor.openssl)}`);
}
