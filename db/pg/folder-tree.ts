// Whole-folder work for the embedded host's data folder: list it, copy it,
// put it on disk. A cluster is about a thousand files, so the per-file system
// calls run several at a time (libuv's thread pool does them in parallel):
// measured on ext4, 971 files, 39 MB: fs.cp 700 ms then one fsync after another
// 340 ms, against about 100 ms and 80 ms here.
import { constants } from 'node:fs';
import { copyFile, mkdir, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';

const AT_ONCE = 16;

interface Tree {
  /** Folders relative to the root, each before its children ('' is the root). */
  folders: string[];
  files: string[];
}

async function listTree(root: string, relative = '', tree: Tree = { folders: [], files: [] }): Promise<Tree> {
  tree.folders.push(relative);
  for (const entry of await readdir(join(root, relative), { withFileTypes: true })) {
    const path = join(relative, entry.name);
    if (entry.isDirectory()) await listTree(root, path, tree);
    else if (entry.isFile()) tree.files.push(path);
  }
  return tree;
}

async function eachAtOnce<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(AT_ONCE, items.length) }, worker));
}

/** fsync of one file or folder (a folder's fsync puts its entries on disk). */
export async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Every file and folder under `root` on disk, each folder after what it holds. */
export async function syncTree(root: string): Promise<void> {
  const { folders, files } = await listTree(root);
  await eachAtOnce(files, (file) => syncPath(join(root, file)));
  for (const folder of folders.reverse()) await syncPath(join(root, folder));
}

/** Copies the tree under `from` into `to` (which may exist, empty); nothing is overwritten. */
export async function copyTree(from: string, to: string): Promise<void> {
  const { folders, files } = await listTree(from);
  for (const folder of folders) await mkdir(join(to, folder), { recursive: true });
  await eachAtOnce(files, (file) => copyFile(join(from, file), join(to, file), constants.COPYFILE_EXCL));
}
