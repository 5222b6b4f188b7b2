// Child processes for the serving tests: spawned, their first JSON line or a
// matching log line awaited (or their exit, which fails the wait at once: no
// clock decides), always killed at the end.
import { spawn, type ChildProcess } from 'node:child_process';

export interface Child {
  process: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
  /** The count-th line matching (the first by default), past or future; rejects when the child exits first. */
  waitFor(pattern: RegExp, count?: number): Promise<string>;
  /** Calls `listener` after each line the child prints; returns what stops it. */
  onLine(listener: () => void): () => void;
  kill(): void;
}

/** A TypeScript entry run with the tsx loader, as in development. */
export function spawnChild(args: string[], env: Record<string, string>): Child {
  return watch(spawn(process.execPath, ['--import', 'tsx', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** Compiled JavaScript under plain node, as in production. */
export function spawnPlain(args: string[], env: Record<string, string>): Child {
  return watch(spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
}

function watch(child: ChildProcess): Child {
  const output: string[] = [];
  const waiters: { pattern: RegExp; count: number; resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
  const matching = (pattern: RegExp) => output.filter((line) => pattern.test(line));
  const listeners = new Set<() => void>();
  const onLine = (line: string) => {
    output.push(line);
    for (const listener of [...listeners]) listener();
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(line) && matching(waiter.pattern).length >= waiter.count) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  };
  let buffered = '';
  const feed = (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    lines.forEach(onLine);
  };
  child.stdout?.on('data', feed);
  child.stderr?.on('data', feed);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => {
    if (buffered) onLine(buffered);
    for (const waiter of waiters.splice(0)) {
      waiter.reject(new Error(`child exited (${code ?? signal}) before printing ${waiter.pattern}:\n${output.join('\n')}`));
    }
    resolve(code);
  }));
  return {
    process: child,
    output,
    exited,
    waitFor(pattern, count = 1) {
      const seen = matching(pattern)[count - 1];
      if (seen !== undefined) return Promise.resolve(seen);
      if (child.exitCode !== null || child.signalCode !== null) {
        return Promise.reject(new Error(`child has exited; no line matches ${pattern}:\n${output.join('\n')}`));
      }
      return new Promise((resolve, reject) => waiters.push({ pattern, count, resolve, reject }));
    },
    onLine(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/**
 * Resolves once `check` holds: now, or after a line any of `children` prints
 * (a service writes a turn's access lines after its answers: a test that
 * counts them waits for them). Rejects when one of them exits first.
 */
export function whenOutput(children: Child[], check: () => boolean): Promise<void> {
  if (check()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const stops: (() => void)[] = [];
    const done = (error?: Error) => {
      for (const stop of stops) stop();
      if (error) reject(error);
      else resolve();
    };
    for (const child of children) {
      stops.push(child.onLine(() => { if (check()) done(); }));
      void child.exited.then(() => done(new Error(`a child exited before its output showed what the test waits for:\n${child.output.join('\n')}`)));
    }
  });
}
