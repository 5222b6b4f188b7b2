// `npm run build` (and `npm install`, through prepare): the service's
// TypeScript compiled to dist/, the client kit and its demo page to
// client/dist/, the SQL beside them. Plain JavaScript, so `npm start` can run
// it before anything is compiled. Incremental: a rebuild after an edit
// recompiles what the edit touched.
//
// dist/.built records when the last successful build began; a source changed
// after that makes the build stale (staleness), and `npm start` rebuilds it.
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const STAMP = join(ROOT, 'dist', '.built');
/** What dist/ and client/dist/ are made from. */
const SOURCES = ['app', 'auth', 'contract', 'db', 'routes', 'client/src', 'client/demo', 'tsconfig.json', 'tsconfig.build.json', 'client/tsconfig.json'];
/** Copied as they are: the migrations each dialect applies at start-up. */
const SQL = ['db/pg/migrations', 'db/pg/upgrades', 'db/db2/migrations'];

/** The newest modification time under `path`, in ms (0 when it does not exist). */
function newest(path) {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs; // an entry added or removed
  for (const name of readdirSync(path)) latest = Math.max(latest, newest(join(path, name)));
  return latest;
}

/** Why the build is stale ("never built", or the newest changed source), or null when it is up to date. */
export function staleness() {
  const built = newest(STAMP);
  if (built === 0) return 'there is no build yet';
  for (const source of SOURCES) {
    if (newest(join(ROOT, source)) > built) return `${source} changed since the last build`;
  }
  return null;
}

/** TypeScript's compiler, or null when it is not installed (a production install: npm install --omit=dev). */
function compiler() {
  try {
    return createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    return null;
  }
}

/** Compiles everything; throws with the step that failed (tsc has printed why). */
export function build() {
  const tsc = compiler();
  if (!tsc) {
    throw new Error('TypeScript is not installed (npm install --omit=dev?): run npm install, or build elsewhere and copy dist/ and client/dist/');
  }
  const began = new Date();
  rmSync(STAMP, { force: true }); // a build that fails half-way is stale
  for (const project of ['tsconfig.build.json', 'client/tsconfig.json']) {
    const { status } = spawnSync(process.execPath, [tsc, '-p', project], { cwd: ROOT, stdio: 'inherit' });
    if (status !== 0) throw new Error(`tsc -p ${project} failed (its errors are above)`);
  }
  for (const folder of SQL) {
    rmSync(join(ROOT, 'dist', folder), { recursive: true, force: true });
    cpSync(join(ROOT, folder), join(ROOT, 'dist', folder), { recursive: true });
  }
  writeFileSync(STAMP, `${began.toISOString()}\n`);
  utimesSync(STAMP, began, began); // a source saved while tsc ran is newer than the build
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    build();
  } catch (error) {
    console.error(`build: ${error.message}`);
    process.exit(1);
  }
  console.log('build: dist/ and client/dist/ are up to date');
}
