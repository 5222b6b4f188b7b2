// One host per test run (a PGlite instance costs hundreds of MB): in-process
// PGlite by default, or a database of its own on the PostgreSQL server when
// TEST_HOST=postgres, created here and dropped when the run ends.
import { createHash } from 'node:crypto';
import { createScratchDatabase, type ScratchDatabase } from '../../scripts/scratch-database.js';
import type { Host, Row } from '../../db/host.js';
import { migrate } from '../../db/migrate.js';
import { openHost } from '../../db/open.js';
import { clearDataScript, demoDataScript } from '../../db/seed.js';
import { pinDigesterFor } from '../../auth/pin.js';

export const TEST_SECRET = 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz';
/** The PIN digests' secret in tests: apart from TEST_SECRET, as in production. */
export const TEST_PIN_PEPPER = 'test-pin-pepper-0123456789abcdefghijklmnopqrstu';
export const TEST_KDF_COST = 1024;
export const TEST_HOST = process.env.TEST_HOST ?? 'pglite';
const ADMIN_URL = process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let shared: Promise<Host> | undefined;
let dropDatabase: (() => Promise<void>) | undefined;
let resetScript: Promise<string> | undefined;

/** A fresh database of this run's own on the PostgreSQL server, and how to drop it. */
export async function createPgDatabase(): Promise<ScratchDatabase> {
  const database = await createScratchDatabase(ADMIN_URL, 'api_test');
  if (!database) throw new Error(`TEST_HOST=postgres, but no PostgreSQL server answers at ${ADMIN_URL}`);
  return database;
}

/** A database of its own for a suite that needs a PostgreSQL server whatever TEST_HOST is; null when none answers. */
export function scratchPgDatabase(prefix: string): Promise<ScratchDatabase | null> {
  return createScratchDatabase(ADMIN_URL, prefix);
}

async function open(): Promise<Host> {
  if (TEST_HOST === 'db2') {
    // npm run test:db2: a real Db2 named by TEST_DB2_URL (scripts/test-db2.ts checks it is set).
    const host = await openHost(String(process.env.TEST_DB2_URL), { poolSize: 10, acquireTimeoutMs: 10_000, statementTimeoutMs: 30_000, lockTimeoutMs: 20_000 });
    await migrate(host);
    return host;
  }
  if (TEST_HOST === 'postgres') {
    const database = await createPgDatabase();
    dropDatabase = database.drop;
    const host = await openHost(database.url, { poolSize: 20, acquireTimeoutMs: 5000, statementTimeoutMs: 20_000, lockTimeoutMs: 15_000 });
    await migrate(host);
    return host;
  }
  const host = await openHost('pglite:memory');
  await migrate(host);
  return host;
}

export function sharedHost(): Promise<Host> {
  shared ??= open();
  return shared;
}

/** Empties the shared host and puts the demo data back (digests made with the test secret). */
export async function resetHost(): Promise<Host> {
  const host = await sharedHost();
  resetScript ??= demoDataScript(pinDigesterFor(TEST_PIN_PEPPER, TEST_KDF_COST), host.dialect)
    .then((seed) => `${clearDataScript(host.dialect)}\n${seed}`);
  await host.runScript(await resetScript);
  return host;
}

export async function closeSharedHost(): Promise<void> {
  if (!shared) return;
  const host = await shared;
  shared = undefined;
  await host.close();
  await dropDatabase?.();
}

/** Runs ad-hoc SQL for a test's own look at host state (named by its text, so prepared names never clash). */
export async function hostRows(sql: string, params: (string | number | null)[] = []): Promise<Row[]> {
  const host = await sharedHost();
  return host.query({ name: `test.${createHash('sha1').update(sql).digest('hex').slice(0, 12)}`, sql }, params);
}

/** The one row a query must answer. */
export async function hostRow(sql: string, params: (string | number | null)[] = []): Promise<Row> {
  const rows = await hostRows(sql, params);
  if (rows.length !== 1 || !rows[0]) throw new Error(`expected one row, got ${rows.length}: ${sql}`);
  return rows[0];
}
