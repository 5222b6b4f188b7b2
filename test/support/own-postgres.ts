// A PostgreSQL server of the test's own (own data directory, own port), so a
// test can stop and restart it under a running API. Uses the machine's
// PostgreSQL binaries; as root, runs them as the postgres user.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/local-service.js';

const PG_ROOT = '/usr/lib/postgresql';

export function postgresBinaries(): string | null {
  if (!existsSync(PG_ROOT)) return null;
  const version = readdirSync(PG_ROOT).sort().pop();
  const bin = version && join(PG_ROOT, version, 'bin');
  return bin && existsSync(join(bin, 'pg_ctl')) ? bin : null;
}

export class OwnPostgres {
  private constructor(private readonly bin: string, readonly dir: string, readonly port: number) {}

  static async create(): Promise<OwnPostgres> {
    const bin = postgresBinaries();
    if (!bin) throw new Error('no PostgreSQL binaries under /usr/lib/postgresql');
    const dir = mkdtempSync(join(tmpdir(), 'api-own-pg-'));
    if (userInfo().uid === 0) execFileSync('chown', ['postgres:postgres', dir]);
    const server = new OwnPostgres(bin, dir, await freePort());
    server.run('initdb', ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync']);
    return server;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** fsync off by default (fast for suites that do not crash the server); the durability suite turns it on. */
  start({ fsync = false }: { fsync?: boolean } = {}): void {
    this.run('pg_ctl', ['-D', join(this.dir, 'data'), '-l', join(this.dir, 'log'), '-w', '-t', '120',
      '-o', `-p ${this.port} -h 127.0.0.1 -k ${this.dir} -c fsync=${fsync ? 'on' : 'off'}`, 'start']);
  }

  stop(): void {
    this.run('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']);
  }

  destroy(): void {
    try { this.stop(); } catch { /* already stopped */ }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private run(tool: string, args: string[]): void {
    const command = join(this.bin, tool);
    if (userInfo().uid === 0) execFileSync('runuser', ['-u', 'postgres', '--', command, ...args], { stdio: 'ignore' });
    else execFileSync(command, args, { stdio: 'ignore' });
  }
}

