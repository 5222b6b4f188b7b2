// One owner per embedded data folder: a lock file beside it (`<folder>.lock`;
// PGlite's initdb wants the folder itself empty) naming the process that owns it.
// A lock whose owner is gone (kill -9, power loss) is taken over; PGlite has no
// lock of its own, and two processes writing one folder lose acknowledged commits.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { link, open, readFile, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as pause } from 'node:timers/promises';

/** Who holds a lock: enough to tell, later and from another process, whether that holder still runs. */
interface Owner {
  pid: number;
  /** Clock ticks after boot at which the process started (/proc/<pid>/stat): a reused pid has another. */
  startTime: string | null;
  /** Changes at every boot: a lock written before the last boot is stale, whatever its pid. */
  bootId: string | null;
  /** Processes in another container on this kernel have pids we cannot look up. */
  pidNamespace: string | null;
  hostname: string;
  command: string;
  since: string;
}

interface Held {
  owner: Owner;
  /** The file's text exactly: two readers of one stale lock agree on it byte for byte. */
  raw: string;
}

export class FolderInUseError extends Error {
  readonly code = 'folder_in_use';
  constructor(message: string) {
    super(message);
    this.name = 'FolderInUseError';
  }
}

export interface FolderLock {
  readonly path: string;
  release(): Promise<void>;
}

function procText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

/** The start time of a running process, or null when no such process runs (a zombie holds no files). */
function startTimeOf(pid: number): string | null {
  const stat = procText(`/proc/${pid}/stat`);
  if (stat === null) return null;
  // The command name in parentheses may hold spaces; the fields after it are fixed: state is the 3rd, starttime the 22nd.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[0] === 'Z' || fields[0] === 'X' ? null : fields[19] ?? null;
}

function isRunning(owner: Owner): boolean {
  if (owner.startTime !== null && procText('/proc/self/stat') !== null) return startTimeOf(owner.pid) === owner.startTime;
  try {
    process.kill(owner.pid, 0); // no /proc (macOS): the pid answers; a reused pid cannot be told apart here
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function me(): Owner {
  let pidNamespace: string | null = null;
  try {
    pidNamespace = readlinkSync('/proc/self/ns/pid');
  } catch { /* not Linux */ }
  return {
    pid: process.pid, startTime: startTimeOf(process.pid), bootId: procText('/proc/sys/kernel/random/boot_id'), pidNamespace,
    hostname: hostname(), command: process.argv.slice(1).join(' ').slice(0, 200), since: new Date().toISOString(),
  };
}

type Verdict = 'alive' | 'gone' | 'elsewhere';

function judge(owner: Owner, self: Owner): Verdict {
  if (owner.hostname !== self.hostname) return 'elsewhere';
  if (owner.bootId && self.bootId && owner.bootId !== self.bootId) return 'gone'; // written before the last boot
  if (owner.pidNamespace !== self.pidNamespace) return 'elsewhere';
  return isRunning(owner) ? 'alive' : 'gone';
}

async function readHeld(path: string): Promise<Held | null | 'unreadable'> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const owner = JSON.parse(raw) as Owner;
    if (Number.isInteger(owner.pid) && typeof owner.hostname === 'string') return { owner, raw };
  } catch { /* not ours, or damaged */ }
  return 'unreadable';
}

/** A new file with `text`, on disk before it has a name that others read: they never see it half written. */
async function written(path: string, text: string): Promise<string> {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const file = await open(temporary, 'wx', 0o644);
  try {
    await file.writeFile(text);
    await file.sync();
  } finally {
    await file.close();
  }
  return temporary;
}

/** Creates `path` holding `text` unless it exists: link() never replaces a name, so of two callers exactly one succeeds. */
async function createExclusive(path: string, text: string): Promise<boolean> {
  const temporary = await written(path, text);
  try {
    await link(temporary, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(temporary, { force: true });
  }
}

const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

const claimPath = (lockPath: string, key: string) => `${lockPath}.takeover-${key}`;

/** The claim file that the processes taking over the stale lock `staleText` race to create first (see takeOver). */
export function takeoverClaimPath(lockPath: string, staleText: string): string {
  return claimPath(lockPath, digest(staleText));
}

/** How long a live process taking over the same stale lock may keep its claim before we give up (it needs microseconds). */
const CLAIM_PATIENCE_MS = 5000;

/**
 * Replaces the stale lock `stale` with ours. Two processes that found the same
 * stale lock both try to create one claim file named after it; the kernel lets
 * exactly one succeed, and only the claimant replaces the lock, after checking
 * it still is that stale one. A claimant that died mid-way leaves its claim:
 * the next claim is named after both, so a dead claimant never blocks.
 */
async function takeOver(path: string, stale: Held, self: Owner, text: string): Promise<boolean> {
  let key = digest(stale.raw);
  const deadClaims: string[] = [];
  const waitUntil = Date.now() + CLAIM_PATIENCE_MS;
  for (;;) {
    const claim = claimPath(path, key);
    if (await createExclusive(claim, text)) {
      try {
        const now = await readHeld(path);
        if (now === null || now === 'unreadable' || now.raw !== stale.raw) return false; // someone else finished first
        const ours = await written(path, text);
        await rename(ours, path).catch(async (error: unknown) => {
          await rm(ours, { force: true });
          throw error;
        }); // atomic: readers see the stale lock or ours, never neither
        return true;
      } finally {
        for (const file of [claim, ...deadClaims]) await rm(file, { force: true });
      }
    }
    const claimant = await readHeld(claim);
    if (claimant === null) continue; // its claimant just finished: the lock has changed, which the next round sees
    if (claimant !== 'unreadable' && judge(claimant.owner, self) === 'gone') {
      deadClaims.push(claim);
      key = digest(`${key}\n${claimant.raw}`);
      continue;
    }
    if (Date.now() > waitUntil) throw new FolderInUseError(`${path} is being taken over by another process (claim ${claim}); try again`);
    await pause(20);
  }
}

function holder(owner: Owner): string {
  return `process ${owner.pid}${owner.command ? ` (${owner.command})` : ''} since ${owner.since}`;
}

/** Takes `path` for `folder`: created if absent, taken over if its owner is gone, else refused with who holds it. */
async function acquire(folder: string, path: string, self: Owner, text: string): Promise<void> {
  for (;;) {
    if (await createExclusive(path, text)) return;
    const held = await readHeld(path);
    if (held === null) continue; // released between our two looks
    if (held === 'unreadable') {
      throw new FolderInUseError(`data folder ${folder} has a lock file this program cannot read; if no process uses the folder, delete ${path}`);
    }
    const verdict = judge(held.owner, self);
    if (verdict === 'alive') throw new FolderInUseError(`data folder ${folder} is in use by ${holder(held.owner)}; stop it, or set DB_URL to another folder`);
    if (verdict === 'elsewhere') {
      const where = held.owner.hostname === self.hostname ? 'in another container on this host' : `on host ${held.owner.hostname}`;
      throw new FolderInUseError(`data folder ${folder} is locked by ${holder(held.owner)} ${where}, which cannot be checked from here; `
        + `if that process no longer runs, delete ${path}`);
    }
    if (await takeOver(path, held, self, text)) return;
  }
}

/** Takes the lock of the data folder `folder` (an absolute path), or fails with one line saying who holds it. */
export async function lockDataFolder(folder: string): Promise<FolderLock> {
  const path = `${folder}.lock`;
  const self = me();
  const text = `${JSON.stringify(self)}\n`;
  try {
    await acquire(folder, path, self, text);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') throw error;
    throw new Error(`cannot write ${path} beside the data folder ${folder} (${code}): the folder's parent directory must be writable; `
      + 'point DB_URL at a folder inside one (like pglite:/data/host)', { cause: error });
  }
  let released = false;
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      const held = await readHeld(path);
      // Only our own lock: after an operator deleted ours, another process may hold the folder now.
      if (held && held !== 'unreadable' && held.raw === text) await rm(path, { force: true });
    },
  };
}
