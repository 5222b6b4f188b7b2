// This service as a child process on loopback, for the bench and the soak,
// and the process facts they read: a free port, readiness, RSS.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** A loopback port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Node running `args` with `env` added to this process's, its output on stderr only. */
export function launch(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Waits until `url` answers `accept` (by default: a 2xx), at most 30 s. */
export async function waitFor(url: string, accept: (response: Response) => boolean = (r) => r.ok): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await fetch(url).then(accept, () => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never became ready`);
}

export interface LocalService {
  base: string;
  child: ChildProcess;
}

/** `app/server.ts` on a free port with `env`, once /health/ready answers 200. */
export async function startService(env: Record<string, string>): Promise<LocalService> {
  const port = await freePort();
  const child = launch(['--import', 'tsx', 'app/server.ts'], { ...env, PORT: String(port) });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(`${base}/health/ready`);
  return { base, child };
}

/** SIGTERM (the service drains), then wait for the exit. */
export async function stop(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
}

/** A process and its children (the workers of a cluster). */
export function familyOf(root: number): Set<number> {
  const pids = new Set([root]);
  try {
    for (const line of readFileSync(`/proc/${root}/task/${root}/children`, 'utf8').trim().split(/\s+/)) if (line) pids.add(Number(line));
  } catch { /* no children */ }
  return pids;
}

/** RSS of a process and its children, in MiB. */
export function rssMb(pid: number): number {
  let kb = 0;
  for (const p of familyOf(pid)) {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch { /* gone */ }
  }
  return Math.round(kb / 1024);
}
