// Structured JSON logs (pino). Anything that could hold a secret is redacted
// by path, as a second line of defence: the code never logs them to begin with.
import { pino, type Logger } from 'pino';

export const REDACTED_PATHS = [
  'pin', '*.pin', 'token', '*.token', 'authorization', '*.authorization',
  'headers.authorization', 'req.headers.authorization', 'password', '*.password',
  'jwtSecret', '*.jwtSecret', 'secret', '*.secret',
];

/** `traceIds`: the active trace span's ids, added to every line (set only when tracing is on). */
export function createLogger(level: string, destination?: NodeJS.WritableStream, traceIds?: () => Record<string, string>): Logger {
  return pino({
    level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, base: { pid: process.pid },
    ...(traceIds ? { mixin: traceIds } : {}),
  }, destination ?? process.stdout);
}
