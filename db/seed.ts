// Demo data as one SQL script, so seeding is atomic and recorded like a migration.
import { DEMO_BALANCE, DEMO_CURRENCY, demoLogins, sampleEmployees } from './demo-data.js';
import type { Dialect } from './host.js';

/** The API tier's PIN digest (auth/pin.ts), passed in: db/ imports nothing above it. */
export type PinDigester = (account: string, pin: string) => Promise<string>;

const literal = (value: string | number | null): string =>
  value === null ? 'NULL' : typeof value === 'number' ? String(value) : `'${value.replace(/'/g, "''")}'`;

/** Statement terminators: `;` for PostgreSQL, a line of `@` for Db2 scripts (db2/driver.ts). */
const TERMINATOR: Record<Dialect, string> = { postgres: ';\n', db2: '\n@\n' };

export async function demoDataScript(pinDigest: PinDigester, dialect: Dialect = 'postgres'): Promise<string> {
  const insert = (table: string, rows: (string | number | null)[][]): string =>
    `INSERT INTO ${table} VALUES\n  ${rows.map((row) => `(${row.map(literal).join(', ')})`).join(',\n  ')}${TERMINATOR[dialect]}`;
  const accounts = demoLogins.flatMap((login) => [
    { account: login.account, kind: 'current', login },
    ...login.otherAccounts.map((other) => ({ ...other, login })),
  ]);
  const digests = await Promise.all(demoLogins.map((login) => pinDigest(login.account, login.pin)));
  // A literal both dialects read as UTC midnight (the PostgreSQL column is timestamptz).
  const opened = dialect === 'postgres' ? '2026-01-01 00:00:00+00' : '2026-01-01-00.00.00';
  return [
    insert('customer', demoLogins.map((l) => [l.customerId, l.name, l.bankId, l.role])),
    insert('account', accounts.map((a) => [a.account, a.login.customerId, a.login.bankId, a.kind, DEMO_CURRENCY, DEMO_BALANCE])),
    insert('credential (account_id, customer_id, pin_digest)',
      demoLogins.map((l, i) => [l.account, l.customerId, digests[i]])),
    insert('ledger_entry (account_id, booked_at, amount, balance_after, counterparty, reference)',
      accounts.map((a) => [a.account, opened, DEMO_BALANCE, DEMO_BALANCE, null, 'Opening balance'])),
    insert('employee', sampleEmployees.map((e) => e.map((v) => (v === '' ? null : v)))),
  ].join('\n');
}

const DATA_TABLES = ['audit_log', 'host_session', 'ledger_entry', 'transfer', 'credential', 'account', 'customer', 'employee'];

/** Empties every data table, children first (tests reset the shared host between cases). */
export function clearDataScript(dialect: Dialect = 'postgres'): string {
  return DATA_TABLES.map((table) => `DELETE FROM ${table}${TERMINATOR[dialect]}`).join('');
}
