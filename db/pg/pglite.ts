// The embedded host: PGlite, a real PostgreSQL engine inside this process, on
// disk (`pglite:./data/host`: locked to this process, commits synced to disk) or
// in memory (`pglite:memory`).
import { PGlite } from '@electric-sql/pglite';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Row } from '../host.js';
import { DATE_OID, hostErrorOf, PgDialectHost, type PgExecutor } from './dialect.js';
import { DURABLE_START_PARAMS, DurableNodeFS } from './durable-nodefs.js';
import { syncPath, syncTree } from './folder-tree.js';
import { lockDataFolder } from './folder-lock.js';
import { copyTemplate, templateFolder } from './template.js';

/** Inside this process there is no network: a failure without a SQLSTATE is a bug (500), not an outage. */
const translate = (error: unknown): Error => hostErrorOf(error, { stateless: 'error' });

const parsers = { [DATE_OID]: (value: string) => value };

/**
 * A 32MB buffer pool, not PostgreSQL's default 128MB: PGlite sets the pool up
 * afresh at every start, and 128MB of it was 0.4 s of a 1 s open (bench:
 * npm start). The embedded host's data (demo, tests, bench) is a few MB, and
 * the operating system's page cache holds its files as well.
 */
const EMBEDDED_SETTINGS = ['-c', 'shared_buffers=32MB'];

/** PGlite on `folder` with every commit on disk before its query answers (durable-nodefs.ts says why PGlite needs help). */
async function openDurable(folder: string): Promise<PGlite> {
  const fs = new DurableNodeFS(folder);
  const db = await PGlite.create({ fs, startParams: [...DURABLE_START_PARAMS, ...EMBEDDED_SETTINGS], parsers });
  if (!fs.fsyncInstalled) {
    await db.close();
    throw new Error(`this @electric-sql/pglite has no NODEFS stream operations to sync ${folder} with: commits would not be durable`);
  }
  return db;
}

/**
 * Creates the data folder's cluster: a copy of the installed template
 * (template.ts), or PGlite's initdb where there is none. A marker beside the
 * folder says "being created" until everything is on disk: a crash meanwhile
 * leaves the marker, and the next start clears the half-made folder and begins
 * again rather than opening it. The folder itself stays put (it may be a mount point).
 */
async function createFolder(folder: string, template: string): Promise<PGlite> {
  const marker = `${folder}.creating`;
  await mkdir(folder, { recursive: true });
  const leftovers = await readdir(folder);
  if (leftovers.length && !existsSync(marker)) throw new Error(`${folder} is neither empty nor a PGlite data folder (it has no PG_VERSION)`);
  await writeFile(marker, `${new Date().toISOString()}\n`, { flush: true });
  await syncPath(dirname(folder));
  for (const name of leftovers) await rm(join(folder, name), { recursive: true, force: true }); // a crashed creation's: ours, we hold the lock
  await copyTemplate(folder, template);
  const db = await openDurable(folder);
  try {
    await syncTree(folder); // the template's files, or initdb's, are written without fsync
    await rm(marker);
    await syncPath(dirname(folder));
    return db;
  } catch (error) {
    await db.close();
    throw error;
  }
}

function executorFor(db: PGlite, closed: () => Promise<void>): PgExecutor {
  return {
    async run(_name, text, params) {
      try {
        return (await db.query<Row>(text, params as unknown[])).rows;
      } catch (error) {
        throw translate(error);
      }
    },
    async runScript(sql) {
      try {
        await db.exec(sql);
      } catch (error) {
        throw translate(error);
      }
    },
    async close() {
      try {
        await db.close();
      } finally {
        await closed();
      }
    },
  };
}

/** `template`: the pre-initialised cluster a new folder is copied from (template.ts); the installed one unless a test names another. */
export async function openPglite(location: string, template = templateFolder()): Promise<PgDialectHost> {
  if (location === 'memory') {
    const db = await PGlite.create({ startParams: [...PGlite.defaultStartParams, ...EMBEDDED_SETTINGS], parsers });
    return new PgDialectHost('embedded PGlite (in memory)', executorFor(db, async () => undefined));
  }
  const folder = resolve(location);
  await mkdir(dirname(folder), { recursive: true });
  // Before anything touches the folder: a second process must leave it exactly as it found it.
  const lock = await lockDataFolder(folder);
  try {
    const isNew = !existsSync(join(folder, 'PG_VERSION')) || existsSync(`${folder}.creating`);
    const db = isNew ? await createFolder(folder, template) : await openDurable(folder);
    return new PgDialectHost(`embedded PGlite (${location})`, executorFor(db, () => lock.release()));
  } catch (error) {
    await lock.release();
    throw error;
  }
}
