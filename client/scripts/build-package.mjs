// `npm pack`'s prepack: the package's files built afresh from src/ alone, so
// the tarball holds neither the demo page nor a module whose source is gone.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import process from 'node:process';
import { URL } from 'node:url';

const client = new URL('../', import.meta.url);
rmSync(new URL('dist/src/', client), { recursive: true, force: true });
// TypeScript is the repository's development dependency (the root's npm install puts it there).
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const { status } = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.package.json'], { cwd: client, stdio: 'inherit' });
process.exitCode = status ?? 1;
