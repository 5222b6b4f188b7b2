// CPU used by processes, read from /proc: the bench's measure of what a
// request costs the API tier and the PostgreSQL server; and the middle of
// the rounds' values.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) used so far, per process, of the processes whose command name matches. */
export function cpuSeconds(match: (pid: number, command: string) => boolean): Map<number, number> {
  const used = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (!match(Number(entry), command)) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      used.set(Number(entry), (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND); // utime, stime
    } catch { /* gone */ }
  }
  return used;
}

/** CPU used between two snapshots by the processes alive at the end (a pool closing idle connections must not subtract). */
export function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let seconds = 0;
  for (const [pid, used] of after) seconds += used - (before.get(pid) ?? 0);
  return seconds;
}

/** The PostgreSQL server's processes (postmaster, backends, background workers). */
export const isPostgres = (_pid: number, command: string): boolean => command === 'postgres';

/** The middle value (the upper one of an even count). */
export function middle(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
}
