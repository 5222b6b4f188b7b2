// The master secret. Production must set JWT_SECRET (config refuses to start
// otherwise); development generates one once and keeps it beside the data so
// tokens and demo PIN digests survive restarts.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Config } from './config.js';

export function devSecretPath(dbUrl: string): string | null {
  if (dbUrl === 'pglite:memory' || dbUrl === 'pglite:') return null;
  if (dbUrl.startsWith('pglite:')) return resolve(`${dbUrl.slice('pglite:'.length)}-jwt-secret`);
  return resolve('data/dev-jwt-secret');
}

export async function resolveSecret(config: Config): Promise<{ secret: string; source: string }> {
  if (config.jwtSecret) return { secret: config.jwtSecret, source: 'JWT_SECRET' };
  const path = devSecretPath(config.dbUrl);
  if (!path) return { secret: randomBytes(32).toString('base64url'), source: 'generated for this process' };
  try {
    const kept = (await readFile(path, 'utf8')).trim();
    if (kept.length >= 32) return { secret: kept, source: path };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = randomBytes(32).toString('base64url');
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${secret}\n`, { mode: 0o600, flag: 'wx' }).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error; // another worker wrote it first: use theirs
  });
  return { secret: (await readFile(path, 'utf8')).trim(), source: path };
}
