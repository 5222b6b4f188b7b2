// Versioned, idempotent migrations: each dialect's numbered SQL files, applied
// in order, each recorded in schema_migration in the same transaction as its
// DDL. Two instances starting at once both try; the unique key lets exactly
// one apply a version and the other skip it.
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { HostConflictError, type Host, type Dialect } from './host.js';
import { demoDataScript, type PinDigester } from './seed.js';

const MIGRATION_DIRS: Record<Dialect, URL> = {
  postgres: new URL('./pg/migrations/', import.meta.url),
  db2: new URL('./db2/migrations/', import.meta.url),
};

const LEDGER_DDL = `CREATE TABLE IF NOT EXISTS schema_migration (
  version    VARCHAR(100) NOT NULL PRIMARY KEY,
  applied_at TIMESTAMPTZ  NOT NULL DEFAULT CURRENT_TIMESTAMP
)`;

export interface Migration {
  version: string;
  sql: string;
}

export async function loadMigrations(dialect: Dialect): Promise<Migration[]> {
  const dir = fileURLToPath(MIGRATION_DIRS[dialect]);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  return Promise.all(files.map(async (file) => ({
    version: file.replace(/\.sql$/, ''),
    sql: await readFile(`${dir}/${file}`, 'utf8'),
  })));
}

async function appliedVersions(host: Host): Promise<Set<string>> {
  await host.runScript(LEDGER_DDL);
  const rows = await host.query({ name: 'migration.list', sql: 'SELECT version FROM schema_migration' }, []);
  return new Set(rows.map((row) => String(row.version)));
}

/** Applies `migration` unless it is recorded; true when this call applied it. */
async function applyOnce(host: Host, migration: Migration): Promise<boolean> {
  const marker = `INSERT INTO schema_migration (version) VALUES ('${migration.version}');\n`;
  try {
    await host.runScript(marker + migration.sql);
    return true;
  } catch (error) {
    if (error instanceof HostConflictError) return false; // another instance won the race
    throw error;
  }
}

export interface MigrateResult {
  applied: string[];
  seeded: boolean;
}

export interface MigrateOptions {
  /** When set, a host without demo data gets it, once. */
  seedDemoData?: PinDigester;
}

export async function migrate(host: Host, options: MigrateOptions = {}): Promise<MigrateResult> {
  if (host.dialect !== 'postgres') {
    throw new Error(`migrations for ${host.dialect} run through its own runner`);
  }
  const done = await appliedVersions(host);
  const applied: string[] = [];
  for (const migration of await loadMigrations(host.dialect)) {
    if (!done.has(migration.version) && await applyOnce(host, migration)) applied.push(migration.version);
  }
  let seeded = false;
  if (options.seedDemoData && !done.has('seed-demo')) {
    seeded = await applyOnce(host, { version: 'seed-demo', sql: await demoDataScript(options.seedDemoData) });
  }
  return { applied, seeded };
}
