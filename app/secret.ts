// The two secrets: JWT_SECRET (signing keys, DPoP nonces, session hashes) and
// PIN_PEPPER (PIN digests), apart so that either can rotate without the
// other. Production must set both (config refuses to start otherwise);
// development generates each once and keeps it beside the data, so tokens
// and demo PIN digests survive restarts.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { HostTarget } from '../db/host.js';
import type { Config } from './config.js';

export interface Secrets {
  secret: string;
  pinPepper: string;
  /** Where each came from, for the start-up log (never the values). */
  source: { jwtSecret: string; pinPepper: string };
}

/** Where development keeps a generated secret: beside the embedded data, or in ./data for a server host; nowhere for an in-memory one. */
export function devSecretPath(target: HostTarget, name: 'jwt-secret' | 'pin-pepper'): string | null {
  if (target.kind !== 'pglite') return resolve(`data/dev-${name}`);
  return target.folder === null ? null : resolve(`${target.folder}-${name}`);
}

async function readKept(path: string): Promise<string | null> {
  try {
    const kept = (await readFile(path, 'utf8')).trim();
    return kept.length >= 32 ? kept : null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return null;
  }
}

/** The kept value at `path`, written first (0600) as `initial()` when there is none; another worker writing first wins. */
async function keep(path: string, initial: () => Promise<string>): Promise<string> {
  const kept = await readKept(path);
  if (kept) return kept;
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${await initial()}\n`, { mode: 0o600, flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  return (await readFile(path, 'utf8')).trim();
}

const generated = async () => randomBytes(32).toString('base64url');

export async function resolveSecrets(config: Pick<Config, 'auth' | 'db'>): Promise<Secrets> {
  const secretPath = devSecretPath(config.db.target, 'jwt-secret');
  const pepperPath = devSecretPath(config.db.target, 'pin-pepper');
  // Before PIN_PEPPER existed the PIN digests were peppered from the JWT
  // secret: a data folder from then keeps its digests valid by taking that
  // secret as its pepper, once; the two are independent from then on.
  const earlierSecret = secretPath ? await readKept(secretPath) : null;
  const secret = config.auth.jwtSecret
    ?? (secretPath ? await keep(secretPath, generated) : await generated());
  const pinPepper = config.auth.pinPepper
    ?? (pepperPath ? await keep(pepperPath, async () => earlierSecret ?? generated()) : await generated());
  const where = (given: string | undefined, name: string, path: string | null) => (given ? name : path ?? 'generated for this process');
  return {
    secret, pinPepper,
    source: { jwtSecret: where(config.auth.jwtSecret, 'JWT_SECRET', secretPath), pinPepper: where(config.auth.pinPepper, 'PIN_PEPPER', pepperPath) },
  };
}
