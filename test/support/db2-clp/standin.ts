// The CLP stand-in from a test's side: a state directory holding one
// database, bash run with the stand-in's `db2` first on PATH, the database
// read back, and a copy of db/db2 to deploy from. Each Standin is its own
// temporary directory; cleanup() removes it.
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const CLP_DIR = resolve('test/support/db2-clp');
export const DATABASE = 'BANKDB';

export interface Table { columns: string[]; primaryKey: string[]; placement: string | null; rows: Record<string, unknown>[] }
export interface Grant { grantor: string; granteeType: string; grantee: string; privilege: string; objectType: string; object: string }
export interface Schema {
  tables: Record<string, Table>;
  indexes: Record<string, { table: string; columns: string[] }>;
  routines: Record<string, { kind: string; parameters: number }[]>;
}
export interface Database {
  platform: 'luw' | 'zos';
  osUser: string;
  users: Record<string, string>;
  tablespaces: string[];
  zosDatabases: string[];
  schemas: Record<string, Schema>;
  roles: string[];
  grants: Grant[];
}
export interface Ran { code: number | null; stdout: string; stderr: string; output: string }
export interface Call { ppid: number; args: string[]; connected: boolean }

export class Standin {
  readonly dir = mkdtempSync(join(tmpdir(), 'db2-standin-'));
  readonly state = join(this.dir, 'state');

  constructor(database: Partial<Database> = {}) {
    const db: Database = {
      platform: 'luw', osUser: 'DB2INST1', users: { DBAUSER: 'secret' }, tablespaces: ['USERSPACE1'], zosDatabases: [],
      schemas: {}, roles: [], grants: [], ...database,
    };
    mkdirSync(this.state);
    this.writeDatabase(db);
  }

  /** The database as committed. */
  database(): Database {
    const server = JSON.parse(readFileSync(join(this.state, 'server.json'), 'utf8')) as { databases: Record<string, Database> };
    return server.databases[DATABASE]!;
  }

  writeDatabase(db: Database): void {
    writeFileSync(join(this.state, 'server.json'), JSON.stringify({ databases: { [DATABASE]: db } }));
  }

  /** Every call of the stand-in so far, in order. */
  calls(): Call[] {
    let log = '';
    try { log = readFileSync(join(this.state, 'calls.log'), 'utf8'); } catch { /* no call yet */ }
    return log.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Call);
  }

  /** Connections left open: one file per back end (parent pid and uid). */
  openConnections(): string[] {
    try { return readdirSync(join(this.state, 'connections')); } catch { return []; }
  }

  /** Runs bash (a script file with arguments, or `-c` text) with the stand-in first on PATH. */
  bash(args: string[], input = '', env: Record<string, string> = {}): Promise<Ran> {
    const child = spawn('bash', args, {
      env: { ...process.env, PATH: `${CLP_DIR}:${process.env.PATH}`, DB2_STANDIN_STATE: this.state, DB2OPTIONS: '', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk; output += chunk; });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk; output += chunk; });
    // A script that exits before reading its input (a refused argument) closes the pipe first: the
    // write's EPIPE is no failure of the run, whose exit code and output tell what happened.
    child.stdin.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') child.emit('error', error);
    });
    child.stdin.end(input);
    return new Promise((done, failed) => {
      child.on('error', failed);
      child.on('close', (code) => done({ code, stdout, stderr, output }));
    });
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A copy of db/db2 (deploy.sh, ledger.sql, grants.sql, migrations/) to deploy
 * from, with the placement marker after every CREATE TABLE's column list
 * where the file lacks it. Answers the copy's directory.
 */
export function copyScripts(into: string): string {
  const target = join(into, 'db2');
  cpSync('db/db2', target, { recursive: true, filter: (source) => !source.endsWith('.ts') });
  for (const file of ['ledger.sql', ...readdirSync(join(target, 'migrations')).map((f) => `migrations/${f}`)]) {
    const path = join(target, file);
    writeFileSync(path, withPlacementMarkers(readFileSync(path, 'utf8')));
  }
  return target;
}

/** Each CLP statement (ended by a line "@") that creates a table gets "/* @IN *\/" after its column list. */
export function withPlacementMarkers(sql: string): string {
  return sql.split(/^@$/m).map((chunk) => {
    const statement = chunk.replace(/^\s*--.*$/gm, '');
    if (!/^\s*CREATE\s+TABLE\b/im.test(statement) || chunk.includes('/* @IN */')) return chunk;
    const close = chunk.lastIndexOf(')');
    return `${chunk.slice(0, close + 1)} /* @IN */${chunk.slice(close + 1)}`;
  }).join('@');
}
