// PGlite on a Node folder with the durability of PostgreSQL on Linux: a commit's
// WAL is on disk (fdatasync), not only in the OS page cache, before its query answers.
import { PGlite } from '@electric-sql/pglite';
import { NodeFS } from '@electric-sql/pglite/nodefs';
import { fdatasyncSync, fsyncSync } from 'node:fs';

/*
 * Why this is needed, in @electric-sql/pglite 0.5.16:
 * - PGlite.defaultStartParams start PostgreSQL with -F, i.e. fsync=off
 *   (src/pglite.ts; SHOW fsync answers off).
 * - Emscripten's NODEFS (dist/pglite.js) writes with fs.writeSync, so a commit
 *   is in the OS page cache when its query answers and survives kill -9. But
 *   NODEFS.stream_ops has no fsync: the fd_sync syscall calls
 *   `stream.stream_ops?.fsync?.(stream)` and answers success having done
 *   nothing; __syscall_fdatasync does nothing at all. A power loss can take
 *   acknowledged commits.
 * - NodeFS.syncToFs is empty, so the relaxedDurability option changes nothing
 *   on Node (it only lets queries answer before an IndexedDB/OPFS flush).
 * So: fsync back on, WAL synced through fsync() (the one call that reaches
 * NODEFS), and NODEFS given an fsync that really syncs.
 */
export const DURABLE_START_PARAMS: readonly string[] = [
  ...PGlite.defaultStartParams.filter((param) => param !== '-F'),
  '-c', 'wal_sync_method=fsync',
];

interface NodeFsStream {
  nfd: number;
  node: { mode: number };
}

/** The parts of emscripten's NODEFS this relies on (not in PGlite's types). */
interface NodeFsInternals {
  stream_ops?: { fsync?: (stream: NodeFsStream) => void };
  tryFSOperation?: <T>(operation: () => T) => T;
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;

export class DurableNodeFS extends NodeFS {
  /** False when this PGlite's NODEFS is not the one described above: the caller must refuse to run. */
  fsyncInstalled = false;

  override async init(pg: PGlite, opts: Parameters<NodeFS['init']>[1]): ReturnType<NodeFS['init']> {
    const result = await super.init(pg, opts);
    const preRun = result.emscriptenOpts.preRun ?? [];
    result.emscriptenOpts.preRun = [...preRun, (mod) => {
      const nodefs = mod.NODEFS as NodeFsInternals;
      const { stream_ops: ops, tryFSOperation } = nodefs;
      if (!ops || !tryFSOperation) return;
      // fdatasync, as PostgreSQL does on Linux: data and the size, not timestamps. A directory's entries need fsync.
      ops.fsync ??= (stream) => tryFSOperation.call(nodefs, () =>
        ((stream.node.mode & S_IFMT) === S_IFDIR ? fsyncSync : fdatasyncSync)(stream.nfd));
      this.fsyncInstalled = true;
    }];
    return result;
  }
}
