// Conversions from host values (which differ a little per driver) to domain values.
import { twoPlaces } from '../contract/money.js';
import type { HostValue, Row } from './host.js';

export function asString(value: HostValue | undefined): string {
  if (value === null || value === undefined) throw new Error('host returned NULL where a value is required');
  return String(value);
}

/** CHAR(n) columns come back blank-padded on Db2 and PostgreSQL alike. */
export function asTrimmed(value: HostValue | undefined): string | null {
  return value === null || value === undefined ? null : String(value).trimEnd();
}

export function asNumber(value: HostValue | undefined): number {
  return Number(asString(value));
}

/** Every driver answers a TIMESTAMP as a Date (the Db2 driver parses Db2's text form itself). */
export function asDate(value: HostValue | undefined): Date {
  if (value instanceof Date) return value;
  throw new Error(`host returned ${JSON.stringify(asString(value))} where a timestamp was due`);
}

/** DECIMAL(p,2) as the contract writes money: "1250.00". Host drivers return decimals as strings. */
export function asMoney(value: HostValue | undefined): string {
  return twoPlaces(asString(value));
}

export function asOptionalMoney(value: HostValue | undefined): string | null {
  return value === null || value === undefined ? null : asMoney(value);
}

/** One of a fixed set of codes; anything else means host and API disagree (a 500, never a guess). */
export function asOneOf<T extends string>(value: HostValue | undefined, allowed: readonly T[], what: string): T {
  const text = asTrimmed(value);
  const found = allowed.find((candidate) => candidate === text);
  if (found === undefined) throw new Error(`host returned ${what} ${JSON.stringify(text)}, not one of ${allowed.join(', ')}`);
  return found;
}

/** The first row, or null when there is none. */
export function firstRow(rows: readonly Row[]): Row | null {
  return rows[0] ?? null;
}

/** Keyset keys are BIGINT identities: this one is above them all, the first page's `before`. */
export const LARGEST_KEY = '9223372036854775807';

/** The keyset key of a page's last row, when more rows follow it. */
export function nextKey(page: readonly Row[], more: boolean, column: string): string | null {
  const last = page[page.length - 1];
  return more && last ? String(last[column]) : null;
}

