// Versioned, idempotent migrations: each dialect's numbered SQL files, applied
// in order, each recorded in schema_migration in the same transaction as its
// DDL (the driver sees to that). Two instances starting at once both try; the
// ledger's key lets exactly one apply a version and the other skip it.
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Dialect, Host } from './host.js';
import { demoDataScript, type PinDigester } from './seed.js';

const MIGRATION_DIRS: Record<Dialect, URL> = {
  postgres: new URL('./pg/migrations/', import.meta.url),
  db2: new URL('./db2/migrations/', import.meta.url),
};

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

export interface MigrateResult {
  applied: string[];
  seeded: boolean;
}

export interface MigrateOptions {
  /** When set, a host without demo data gets it, once. */
  seedDemoData?: PinDigester;
}

export const DEMO_SEED_VERSION = 'seed-demo';

export async function migrate(host: Host, options: MigrateOptions = {}): Promise<MigrateResult> {
  await host.prepareMigrations();
  const done = await host.appliedMigrations();
  const applied: string[] = [];
  for (const migration of await loadMigrations(host.dialect)) {
    if (!done.has(migration.version) && await host.applyMigration(migration.version, migration.sql)) {
      applied.push(migration.version);
    }
  }
  let seeded = false;
  if (options.seedDemoData && !done.has(DEMO_SEED_VERSION)) {
    seeded = await host.applyMigration(DEMO_SEED_VERSION, await demoDataScript(options.seedDemoData, host.dialect));
  }
  return { applied, seeded };
}

/** The host's schema is older than this code: start-up refuses rather than run against it. */
export class SchemaBehind extends Error {
  constructor(readonly missing: string[], host: Host) {
    super(`${host.description} lacks migration${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; `
      + `apply ${fileURLToPath(MIGRATION_DIRS[host.dialect])} first (npm run db:migrate does)`);
    this.name = 'SchemaBehind';
  }
}

/** Checks, reading only, that every migration of this code is recorded on the host. */
export async function checkSchema(host: Host): Promise<void> {
  const done = await host.appliedMigrations();
  const missing = (await loadMigrations(host.dialect)).map((m) => m.version).filter((version) => !done.has(version));
  if (missing.length) throw new SchemaBehind(missing, host);
}
