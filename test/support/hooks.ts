// Mocha root hooks: the shared host is closed (and its PostgreSQL database
// dropped) once, after every suite; and the run fails if it left a new file
// in the repository: tests write in temporary folders only (build output and
// node_modules aside), so a clone is as clean after `npm test` as before.
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { closeSharedHost } from './host.js';

const REPOSITORY = new URL('../../', import.meta.url).pathname;
/** What a run may write: npm's and the build's (dist/, client/dist/), and git's own. */
const OUTPUT = new Set(['node_modules', 'dist', '.git']);

function filesIn(folder: string, found: Set<string> = new Set()): Set<string> {
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    if (OUTPUT.has(entry.name)) continue;
    const path = join(folder, entry.name);
    if (entry.isDirectory()) filesIn(path, found);
    else found.add(relative(REPOSITORY, path));
  }
  return found;
}

let before: Set<string>;

export const mochaHooks = {
  beforeAll(): void {
    before = filesIn(REPOSITORY);
  },
  async afterAll(): Promise<void> {
    await closeSharedHost();
    const added = [...filesIn(REPOSITORY)].filter((path) => !before.has(path));
    if (added.length) {
      throw new Error(`the tests left ${added.length} new file(s) in the repository: ${added.join(', ')}; a test writes in a temporary folder only`);
    }
  },
};
