// Schemas several route modules share.
import { array, number, object, string } from 'yup';
import { amountPattern, MONEY_DIGITS, SIGNED_AMOUNT } from '../contract/money.js';
import { PROBLEM_CODES } from '../contract/problems.js';
import { LARGEST_KEY } from '../db/values.js';

/**
 * Text a host column stores: at most `bytes` bytes of UTF-8, which is what a
 * VARCHAR(n) or CHAR(n) holds in a Unicode Db2 database (PostgreSQL counts
 * characters, so the byte bound is the one both hosts keep). Refused with
 * 400 here rather than 22001 (a 500) from the host.
 */
export const hostText = (bytes: number) => string().max(bytes)
  // Longer in characters already fails max(): one message per field.
  .test('utf8-bytes', `must be at most ${bytes} bytes of UTF-8 (é, ü or ß take two each)`,
    (value) => value === undefined || value === null || value.length > bytes || Buffer.byteLength(value) <= bytes);

/** Money in: a non-negative decimal string with at most two places, never a float. */
export const money = (integerDigits = MONEY_DIGITS) => string()
  .matches(amountPattern(integerDigits), `must be a decimal string with at most ${integerDigits} digits before the point and two after`)
  .meta({ example: '1250.00' });

/** Money out: always two places, negative for debits. */
export const signedMoney = () => string().matches(SIGNED_AMOUNT).meta({ example: '-25.00' });

export const DATE = /^\d{4}-\d{2}-\d{2}$/;
export const isoDate = () => string()
  .matches(DATE, 'must be a date YYYY-MM-DD')
  .test('real-date', 'must be a real calendar date', (v) => v === undefined || v === null || isRealDate(v))
  .meta({ format: 'date', example: '2001-05-16' });

/** A calendar date both hosts can store: Db2 and PostgreSQL DATEs start at 0001-01-01 (there is no year 0). */
function isRealDate(value: string): boolean {
  const date = new Date(`${value}T00:00:00Z`);
  return value >= '0001-01-01' && !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
}

export const timestamp = () => string().meta({ format: 'date-time', example: '2026-11-25T12:00:00.000Z' });

/** A whole number in a query string: digits only (no signs, exponents or spaces). */
export const queryInt = (min: number, max: number) => number()
  .transform((_value, original) => (typeof original === 'string' && /^\d{1,9}$/.test(original) ? Number(original) : typeof original === 'number' ? original : NaN))
  .typeError('must be a whole number')
  .integer()
  .min(min)
  .max(max);

export const limitQuery = () => queryInt(1, 100).default(20).meta({ description: 'Page size, 1–100.' });

export function encodeCursor(key: string): string {
  return Buffer.from(`k:${key}`).toString('base64url');
}

/** The key inside a cursor, or null when it is not one of ours (or could not be a BIGINT key). */
function decodeCursor(cursor: string): string | null {
  const text = Buffer.from(cursor, 'base64url').toString();
  if (!/^k:\d{1,19}$/.test(text)) return null;
  const key = text.slice(2);
  return BigInt(key) <= BigInt(LARGEST_KEY) ? key : null;
}

/** Opaque keyset cursor, as returned in nextCursor: a forged one is 400, like any invalid field. */
export const cursorQuery = () => string().max(64).matches(/^[A-Za-z0-9_-]+$/, 'is not a valid cursor')
  .test('ours', 'is not a valid cursor', (value) => value === undefined || decodeCursor(value) !== null)
  .meta({ description: 'Opaque cursor from the previous page\u2019s nextCursor.' });

/** The key a validated cursor names (the page goes on below it), or null for the first page. */
export const keyOf = (cursor: string | undefined): string | null => (cursor === undefined ? null : decodeCursor(cursor));

export const problemSchema = object({
  type: string().required(),
  title: string().required(),
  status: number().integer().required(),
  detail: string(),
  code: string().oneOf(PROBLEM_CODES).required().meta({ description: 'Stable snake_case code clients switch on (docs/API.md, "Problem codes").' }),
  requestId: string().required(),
  errors: array(object({ path: string().required(), message: string().required() })),
});
