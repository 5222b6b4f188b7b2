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

export function asDate(value: HostValue | undefined): Date {
  if (value instanceof Date) return value;
  const text = asString(value);
  // Db2 returns TIMESTAMP as 'YYYY-MM-DD-HH.MM.SS.ffffff' (UTC by this schema's convention).
  const db2 = /^(\d{4}-\d{2}-\d{2})[- ](\d{2})[.:](\d{2})[.:](\d{2})(\.\d+)?$/.exec(text);
  return db2 ? new Date(`${db2[1]}T${db2[2]}:${db2[3]}:${db2[4]}${(db2[5] ?? '').slice(0, 4)}Z`) : new Date(text);
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

/** The keyset key of a page's last row, when more rows follow it. */
export function nextKey(page: readonly Row[], more: boolean, column: string): string | null {
  const last = page[page.length - 1];
  return more && last ? String(last[column]) : null;
}

