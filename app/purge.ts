// The purge timer: expired host sessions and audit rows past retention are
// deleted by a procedure that is safe to run from every instance at once.
import type { Logger } from 'pino';
import type { Host } from '../db/host.js';
import { purgeExpired } from '../db/host-sessions.js';

const DAY_MS = 86_400_000;

export function startPurgeTimer(host: Host, options: {
  intervalSeconds: number; auditRetentionDays: number; knownDeviceDays: number; lockSeconds: number; clock: () => Date; logger: Logger;
}): () => void {
  let running = false;
  const tick = async (): Promise<void> => {
    if (running) return; // a slow host: never stack purges
    running = true;
    try {
      const now = options.clock();
      const before = (ms: number) => new Date(now.getTime() - ms);
      const purged = await purgeExpired(host, {
        now,
        auditBefore: before(options.auditRetentionDays * DAY_MS),
        guardBefore: before(options.lockSeconds * 1000), // failure counters older than a lock are forgotten anyway
        knownDeviceBefore: before(options.knownDeviceDays * DAY_MS),
      });
      if (purged.sessions || purged.auditRows) options.logger.info(purged, 'purged expired rows');
    } catch (error) {
      options.logger.warn({ err: error }, 'purge failed; will retry');
    } finally {
      running = false;
    }
  };
  // Jitter spreads many instances' purges over the interval.
  const timer = setInterval(() => void tick(), options.intervalSeconds * 1000 * (0.9 + Math.random() * 0.2));
  timer.unref();
  return () => clearInterval(timer);
}
