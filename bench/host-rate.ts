// `npm run bench -- host`: the PostgreSQL server's CPU per protected read
// (the service's two statements: the session row, then the employee row), sent
// by plain `pg` with nothing of the service around them, at several request
// rates, with and without the timeouts the service's connections carry
// (statement_timeout, lock_timeout). What it tells: how much of the host CPU
// per request the bench reports depends on the rate rather than on the work.
import pg from 'pg';
import { statements, toDollarPlaceholders } from '../db/statements.js';
import { cpuBetween, cpuSeconds, isPostgres, middle } from './cpu.js';

const CONCURRENCY = 16;
const ROUNDS = 3;
const SECONDS = 4;
const RATES = [1000, 2000, 4000, 0]; // 0: as fast as the server answers
const SERVICE_TIMEOUTS = '-c statement_timeout=10000 -c lock_timeout=5000'; // DB_STATEMENT_TIMEOUT_SECONDS, DB_LOCK_TIMEOUT_SECONDS defaults

const SESSION = toDollarPlaceholders(statements.sessionRead.sql);
const EMPLOYEE = toDollarPlaceholders(statements.employeeGet.sql);

/** Host CPU µs per read pair over `seconds`, paced to `rate` pairs a second in all (0: unpaced); and the pairs a second reached. */
async function run(pool: pg.Pool, sessionIds: string[], rate: number, seconds: number): Promise<{ us: number; rate: number }> {
  let started = 0;
  const begin = Date.now();
  const end = begin + seconds * 1000;
  const before = cpuSeconds(isPostgres);
  const worker = async (): Promise<void> => {
    while (Date.now() < end) {
      const due = rate ? begin + (started / rate) * 1000 : 0;
      if (Date.now() < due) {
        await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
        continue;
      }
      const sessionId = sessionIds[started++ % sessionIds.length];
      await pool.query({ name: 'session.read', text: SESSION, values: [sessionId] });
      await pool.query({ name: 'employee.get', text: EMPLOYEE, values: ['000010'] });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const used = cpuBetween(before, cpuSeconds(isPostgres));
  return { us: Math.round(used * 1e6 / started), rate: Math.round(started / ((Date.now() - begin) / 1000)) };
}

/** Prints the median of ROUNDS alternated runs for each rate, without and with the service's timeouts. */
export async function hostCpuByRate(dbUrl: string): Promise<void> {
  const pools = {
    plain: new pg.Pool({ connectionString: dbUrl, max: 10 }),
    'with the service\u2019s timeouts': new pg.Pool({ connectionString: dbUrl, max: 10, options: SERVICE_TIMEOUTS }),
  };
  // pool.end() resolves before its sockets close: the scratch database's DROP … WITH (FORCE) may still terminate them (57P01).
  for (const pool of Object.values(pools)) pool.on('error', () => {});
  try {
    const { rows } = await pools.plain.query<{ session_id: string }>('SELECT session_id FROM host_session');
    const sessionIds = rows.map((row) => row.session_id);
    if (!sessionIds.length) throw new Error('no sessions to read: log some in first');
    const results = new Map<string, { us: number[]; rate: number[] }>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const rate of RATES) {
        for (const [label, pool] of Object.entries(pools)) {
          if (round === 0) await run(pool, sessionIds, rate, 1); // warm: connections, prepared statements
          const key = `${rate ? `${rate} reads/s` : 'unpaced'}, ${label}`;
          const result = await run(pool, sessionIds, rate, SECONDS);
          const entry = results.get(key) ?? { us: [], rate: [] };
          entry.us.push(result.us);
          entry.rate.push(result.rate);
          results.set(key, entry);
        }
      }
    }
    console.log(`PostgreSQL CPU per protected read (the session row and the employee row over plain pg, ${CONCURRENCY} concurrent, `
      + `${sessionIds.length} sessions; median of ${ROUNDS} rounds of ${SECONDS} s):`);
    for (const [key, { us, rate }] of results) console.log(`- ${key}: ${middle(us)} µs (rounds ${us.join(', ')}; ${middle(rate)} reads/s reached)`);
  } finally {
    await Promise.all(Object.values(pools).map((pool) => pool.end()));
  }
}
