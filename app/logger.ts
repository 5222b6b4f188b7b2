// Structured JSON logs (pino). Anything that could hold a secret is redacted
// by path, as a second line of defence: the code never logs them to begin with.
import { pino, type Logger } from 'pino';
import { TurnBatch } from './end-of-turn.js';

export const REDACTED_PATHS = [
  'pin', '*.pin', 'token', '*.token', 'authorization', '*.authorization',
  'headers.authorization', 'req.headers.authorization', 'password', '*.password',
  'jwtSecret', '*.jwtSecret', 'secret', '*.secret',
];

/**
 * A stream's lines written once per event-loop turn (app/end-of-turn.ts):
 * under load one turn serves several requests, and an access line written
 * alone was a system call of its own for each of them. The turn's lines go out
 * in order when it ends, after the access lines of its requests, and whatever
 * is pending when the process exits goes out then.
 */
export class TurnBufferedStream {
  private readonly lines: TurnBatch<string>;

  constructor(target: { write(text: string): unknown }) {
    this.lines = new TurnBatch((lines) => target.write(lines.join('')));
  }

  write(line: string): boolean {
    this.lines.add(line);
    return true;
  }
}

let stdout: TurnBufferedStream | undefined;

/**
 * `destination`: standard output by default (one write per event-loop turn);
 * `traceIds`: the active trace span's ids, added to every line (set only when
 * tracing is on).
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream, traceIds?: () => Record<string, string>): Logger {
  return pino({
    level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, base: { pid: process.pid },
    ...(traceIds ? { mixin: traceIds } : {}),
  }, destination ?? (stdout ??= new TurnBufferedStream(process.stdout)));
}
