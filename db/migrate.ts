// Versioned, idempotent migrations: each dialect's numbered SQL files, applied
// in order, each recorded in schema_migration in the same transaction as its
// DDL (the driver sees to that). Two instances starting at once both try; the
// ledger's key lets exactly one apply a version and the other skip it.
// A baseline (a file whose header says `-- replaces: v1 v2 …`) is what those
// versions add up to: a new host runs it, a host that has them all only
// records it, and one that has some gets the rest from the upgrades folder
// beside the migrations (history, kept only for such hosts) first.
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
  /** The versions a baseline stands for, in the order they were applied; empty for any other migration. */
  replaces: string[];
}

/** The `-- replaces:` line of the file's leading comment block. */
function replacedBy(sql: string): string[] {
  const header = /^(?:--.*\n)*/.exec(sql)?.[0] ?? '';
  return /^-- replaces:(.*)$/m.exec(header)?.[1]?.trim().split(/\s+/) ?? [];
}

export async function loadMigrations(dialect: Dialect): Promise<Migration[]> {
  const dir = fileURLToPath(MIGRATION_DIRS[dialect]);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  return Promise.all(files.map(async (file) => {
    const sql = await readFile(`${dir}/${file}`, 'utf8');
    return { version: file.replace(/\.sql$/, ''), sql, replaces: replacedBy(sql) };
  }));
}

/** Replaced versions, read from the upgrades folder beside the dialect's migrations. */
export async function loadUpgrades(dialect: Dialect, versions: string[]): Promise<Migration[]> {
  const dir = fileURLToPath(new URL('../upgrades/', MIGRATION_DIRS[dialect]));
  return Promise.all(versions.map(async (version) => ({ version, sql: await readFile(`${dir}/${version}.sql`, 'utf8'), replaces: [] })));
}

/**
 * The versions a baseline replaces that the ledger lacks, or null when it
 * holds none of them: a host that never had them, which runs the baseline itself.
 */
function missingUpgrades(done: Set<string>, migration: Migration): string[] | null {
  const missing = migration.replaces.filter((version) => !done.has(version));
  return missing.length < migration.replaces.length ? missing : null;
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
    if (done.has(migration.version)) continue;
    const upgrades = missingUpgrades(done, migration);
    // A baseline over its history is recorded with no script: the history built the same schema.
    const steps = upgrades ? [...await loadUpgrades(host.dialect, upgrades), { ...migration, sql: '' }] : [migration];
    for (const step of steps) {
      if (await host.applyMigration(step.version, step.sql)) applied.push(step.version);
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
      + `run npm run db:migrate${host.dialect === 'db2' ? ' or db/db2/deploy.sh' : ''} first`);
    this.name = 'SchemaBehind';
  }
}

/**
 * Checks, reading only, that every migration of this code is recorded on the
 * host. A baseline counts as recorded when every version it replaces is:
 * migrate would only add its row, no DDL, so a host upgraded through the old
 * chain starts as it is, and a host that must use DB_MIGRATE=check (no DDL
 * authority) is not sent to db:migrate for bookkeeping. A host with only
 * some of them is told which upgrades it lacks.
 */
export async function checkSchema(host: Host): Promise<void> {
  const done = await host.appliedMigrations();
  const missing = (await loadMigrations(host.dialect)).flatMap((migration) =>
    done.has(migration.version) ? [] : missingUpgrades(done, migration) ?? [migration.version]);
  if (missing.length) throw new SchemaBehind(missing, host);
}
