// A pre-initialised PGlite cluster to copy a new data folder from. PGlite's
// initdb costs seconds (about 2.7 s of a 4.8 s first start on a quiet machine);
// copying the files a finished initdb left behind costs tens of milliseconds.
// `npm install` builds the template once (the prepare script runs
// `npm run host:template`); without it a new folder is initialised as before.
import { PGlite } from '@electric-sql/pglite';
import { v4 as uuidv4 } from 'uuid';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { copyTree, syncPath, syncTree } from './folder-tree.js';

/** The template of the installed PGlite: a cluster made by one version is only opened by that version. */
export function templateFolder(): string {
  // The package exports no package.json: walk up from its entry point to the folder that has it.
  let dir = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string };
  // <node_modules>/@electric-sql/pglite → <node_modules>/.cache, where tools keep what they can rebuild.
  return join(dir, '..', '..', '.cache', 'host-session', `pglite-${version}`);
}

/** True when a finished template is there (the folder only appears, by rename, once complete). */
export function haveTemplate(folder = templateFolder()): boolean {
  return existsSync(join(folder, 'PG_VERSION'));
}

/**
 * Copies the template into `folder` (empty) and answers true, or answers false
 * when there is none. The caller opens the folder and syncs it to disk.
 */
export async function copyTemplate(folder: string, template = templateFolder()): Promise<boolean> {
  if (!haveTemplate(template)) return false;
  await copyTree(template, folder);
  return true;
}

/** Builds the template unless it is there: initdb in a scratch folder, a clean shutdown, then one rename. */
export async function buildTemplate(folder = templateFolder()): Promise<'built' | 'present'> {
  if (haveTemplate(folder)) return 'present';
  const scratch = `${folder}.${uuidv4()}.tmp`;
  await mkdir(dirname(folder), { recursive: true });
  const db = await PGlite.create(scratch);
  await db.close();
  await syncTree(scratch); // on disk before the name says "finished": a power loss never leaves a half-written template
  try {
    await rename(scratch, folder);
    await syncPath(dirname(folder));
  } catch (error) {
    await rm(scratch, { recursive: true, force: true });
    if (!haveTemplate(folder)) throw error; // else another install built it first
    return 'present';
  }
  return 'built';
}
