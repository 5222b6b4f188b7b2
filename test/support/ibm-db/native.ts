// How the addon's C++ meets JavaScript, shared by every class of the stand-in:
// its argument checks (src/odbc.h macros), its errors (ODBC::GetSQLError), its
// strings (GETCPPSTR) and its work queue (uv_queue_work).
import { SQL_DROP, type Diagnostic } from './cli.js';

export type Callback = (...args: unknown[]) => unknown;

export const isCallback = (value: unknown): value is Callback => typeof value === 'function';
export const toInt32 = (value: number) => value | 0;

/** REQ_FUN_ARG, REQ_STRO_ARG, REQ_INT_ARG, REQ_BOOL_ARG (src/odbc.h): a TypeError thrown at the call. */
export function requireFunction(value: unknown, index: number): Callback {
  if (!isCallback(value)) throw new TypeError(`Argument ${index} must be a function`);
  return value;
}
export function requireString(value: unknown, index: number): string {
  if (typeof value !== 'string') throw new TypeError(`Argument ${index} must be a string`);
  return value;
}
export function requireInt(value: unknown, index: number): number {
  if (typeof value !== 'number') throw new TypeError(`Argument ${index} invalid`);
  return value | 0;
}
export function requireBoolean(value: unknown, index: number): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`Argument ${index} must be a boolean`);
  return value;
}

/** close(cb) or close(option, cb), as ODBCStatement::Close and ODBCResult::Close read them: closeSync's work, off the loop. */
export function closeLater(first: unknown, second: unknown, closeSync: (option: number) => unknown): void {
  const [option, callback] = typeof first === 'number' ? [first, requireFunction(second, 1)] : [SQL_DROP, requireFunction(first, 0)];
  uv(() => closeSync(option), () => callback(null));
}

export function notModelled(what: string): never {
  throw new Error(`ibm_db addon stand-in: ${what} is not modelled`);
}

/** Methods the addon has and the driver never calls: there, so lib/odbc.js finds them, and throwing if anything does call them. */
export function withoutModels(target: { prototype: object; name: string }, methods: string[]): void {
  for (const method of methods) {
    Object.defineProperty(target.prototype, method, { value: () => notModelled(`${target.name}.${method}`), writable: true, configurable: true });
  }
}

/**
 * ODBC::GetSQLError (src/odbc.cpp): an Error whose message is the first
 * diagnostic record's text, with `error` (the call site's label), `sqlcode`
 * (native error) and `sqlstate`. No record: empty message, state '' and 0.
 */
export function sqlError(diagnostic: Diagnostic | null, label: string): Error {
  return Object.assign(new Error(diagnostic?.message ?? ''), {
    error: label, sqlcode: diagnostic?.sqlcode ?? 0, sqlstate: diagnostic?.sqlstate ?? '',
  });
}

/**
 * GETCPPSTR (src/odbc.h): a string is copied only when it is not empty and not
 * the text "null"; otherwise the pointer stays NULL and the length 0. Both
 * reach the CLI as a NULL pointer (SetAttr, Prepare, Query, Open).
 */
export const cppString = (value: string): string | null => (value.length > 0 && value !== 'null' ? value : null);

/** uv_queue_work: the work off the loop, the callback on a later turn; a throw in the callback is uncaught, as PropagateCallbackException makes it. */
export function uv<T>(work: () => T | Promise<T>, after: (result: T) => void): void {
  Promise.resolve().then(work).then(
    (result) => setImmediate(() => after(result)),
    (error: unknown) => setImmediate(() => {
      throw error;
    }),
  );
}
