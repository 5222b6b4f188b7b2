// Structured JSON logs (pino). Anything that could hold a secret is redacted
// by path, as a second line of defence: the code never logs them to begin with.
import { pino, type Logger } from 'pino';

export const REDACTED_PATHS = [
  'pin', '*.pin', 'token', '*.token', 'authorization', '*.authorization',
  'headers.authorization', 'req.headers.authorization', 'password', '*.password',
  'jwtSecret', '*.jwtSecret', 'secret', '*.secret',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino({ level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, base: { pid: process.pid } },
    destination ?? process.stdout);
}
