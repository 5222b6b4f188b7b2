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

/** What this process launched and has not seen exit: stopped with it, however it ends. */
const running = new Set<ChildProcess>();

function stopRunning(): void {
  for (const child of running) child.kill('SIGTERM'); // each drains and exits on its own
}

let stopsWithUs = false;
/** A bench or soak stopped by a signal (not only Ctrl-C, which the whole process group gets) leaves no server behind. */
function stopChildrenWithThisProcess(): void {
  if (stopsWithUs) return;
  stopsWithUs = true;
  process.once('exit', stopRunning);
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      stopRunning();
      process.exit(code);
    });
  }
}

/** Node (or `command`) running `args` with `env` added to this process's, its output on stderr only; it stops when this process does. */
export function launch(args: string[], env: Record<string, string>, command = process.execPath): ChildProcess {
  stopChildrenWithThisProcess();
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/**
 * Waits until `url` answers `accept` (by default: a 2xx), asking every 25 ms;
 * fails when `child` exits first, or after 5 minutes (a first start on a busy
 * machine takes long, but not that long).
 */
export async function waitFor(url: string, accept: (response: Response) => boolean = (r) => r.ok, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) throw new Error(`the process for ${url} exited (${child.exitCode ?? child.signalCode})`);
    if (await fetch(url).then(accept, () => false)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${url} never became ready`);
}

export interface LocalService {
  base: string;
  /** Where its Prometheus metrics answer (a listener of their own). */
  metrics: string;
  child: ChildProcess;
  /** Milliseconds from spawn to the first 200 of /health/ready. */
  readyMs: number;
}

/** `app/server.ts` (or node with `entry`, or `command` with it) on free ports with `env`, once /health/ready answers 200. */
export async function startService(
  env: Record<string, string>, entry: string[] = ['--import', 'tsx', 'app/server.ts'], command = process.execPath,
): Promise<LocalService> {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const started = performance.now();
  const child = launch(entry, { ...env, PORT: String(port), METRICS_PORT: String(metricsPort) }, command);
  const base = `http://127.0.0.1:${port}`;
  await waitFor(`${base}/health/ready`, undefined, child);
  return { base, metrics: `http://127.0.0.1:${metricsPort}`, child, readyMs: Math.round(performance.now() - started) };
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
