// Demo data as one SQL script, so seeding is atomic and recorded like a
// migration. The SAMPLE tables (DEPARTMENT, EMPLOYEE) are filled only where a
// key is free: on a real SAMPLE database the demo never collides with its rows.
import { DEMO_BALANCE, DEMO_CURRENCY, demoLogins, sampleDepartments, sampleEmployees } from './demo-data.js';
import type { Dialect } from './host.js';
import { EMPLOYEE_COLUMNS } from './procedures.js';

/** The API tier's PIN digest (auth/pin.ts), passed in: db/ imports nothing above it. */
export type PinDigester = (account: string, pin: string) => Promise<string>;

type Value = string | number | null;

const literal = (value: Value): string =>
  value === null ? 'NULL' : typeof value === 'number' ? String(value) : `'${value.replace(/'/g, "''")}'`;

/** Statement terminators: `;` for PostgreSQL, a line of `@` for Db2 scripts (db2/driver.ts). */
const TERMINATOR: Record<Dialect, string> = { postgres: ';\n', db2: '\n@\n' };

interface Rows {
  table: string;
  columns: string[];
  rows: Value[][];
  /** Rows whose key exists already are left alone (SAMPLE tables). */
  keepExisting?: boolean;
}

/**
 * PostgreSQL: one multi-row INSERT per table. Db2: one INSERT per row (Db2
 * for z/OS has no multi-row VALUES), guarded by NOT EXISTS where the row
 * may be SAMPLE's own.
 */
function render({ table, columns, rows, keepExisting }: Rows, dialect: Dialect): string {
  const head = `INSERT INTO ${table} (${columns.join(', ')})`;
  if (dialect === 'postgres') {
    const values = rows.map((row) => `(${row.map(literal).join(', ')})`).join(',\n  ');
    return `${head} VALUES\n  ${values}${keepExisting ? '\nON CONFLICT DO NOTHING' : ''}${TERMINATOR.postgres}`;
  }
  return rows.map((row) => {
    const values = row.map(literal).join(', ');
    const [key] = columns;
    return keepExisting
      ? `${head}\nSELECT ${values} FROM SYSIBM.SYSDUMMY1\n WHERE NOT EXISTS (SELECT 1 FROM ${table} WHERE ${key} = ${literal(row[0] ?? null)})${TERMINATOR.db2}`
      : `${head} VALUES (${values})${TERMINATOR.db2}`;
  }).join('');
}

export async function demoDataScript(pinDigest: PinDigester, dialect: Dialect = 'postgres'): Promise<string> {
  const accounts = demoLogins.flatMap((login) => [
    { account: login.account, kind: 'current', balance: DEMO_BALANCE, login },
    ...login.otherAccounts.map(({ balance = DEMO_BALANCE, ...other }) => ({ ...other, balance, login })),
  ]);
  const digests = await Promise.all(demoLogins.map((login) => pinDigest(login.account, login.pin)));
  // A literal both dialects read as UTC midnight (the PostgreSQL column is timestamptz).
  const opened = dialect === 'postgres' ? '2026-01-01 00:00:00+00' : '2026-01-01-00.00.00';
  const money = (value: string): number | null => (value === '' ? null : Number(value));
  const tables: Rows[] = [
    { table: 'customer', columns: ['customer_id', 'name', 'bank_id', 'access_role'], rows: demoLogins.map((l) => [l.customerId, l.name, l.bankId, l.role]) },
    { table: 'account', columns: ['account_id', 'customer_id', 'bank_id', 'kind', 'currency', 'balance'],
      rows: accounts.map((a) => [a.account, a.login.customerId, a.login.bankId, a.kind, DEMO_CURRENCY, Number(a.balance)]) },
    { table: 'credential', columns: ['account_id', 'customer_id', 'pin_digest'], rows: demoLogins.map((l, i) => [l.account, l.customerId, digests[i] ?? null]) },
    { table: 'ledger_entry', columns: ['account_id', 'booked_at', 'amount', 'balance_after', 'counterparty', 'reference'],
      rows: accounts.map((a) => [a.account, opened, Number(a.balance), Number(a.balance), null, 'Opening balance']) },
    { table: 'department', columns: ['deptno', 'deptname', 'mgrno', 'admrdept', 'location'], keepExisting: true,
      rows: sampleDepartments.map(([deptno, name, manager, admin]) => [deptno, name, manager || null, admin, null]) },
    { table: 'employee', columns: ['empno', ...EMPLOYEE_COLUMNS], keepExisting: true,
      rows: sampleEmployees.map(([empno, first, mid, last, dept, phone, hired, job, edlevel, sex, born, salary, bonus, comm]) =>
        [empno, first, mid || null, last, dept || null, phone || null, hired || null, job || null, edlevel, sex || null,
          born || null, money(salary), money(bonus), money(comm)]) },
  ];
  return tables.map((rows) => render(rows, dialect)).join('\n');
}

const DATA_TABLES = ['audit_log', 'host_session', 'login_guard', 'known_device', 'transfer_day', 'ledger_entry', 'transfer',
  'credential', 'account', 'customer', 'employee', 'department'];

/** Empties every data table, children first (tests reset the shared host between cases). */
export function clearDataScript(dialect: Dialect = 'postgres'): string {
  return DATA_TABLES.map((table) => `DELETE FROM ${table}${TERMINATOR[dialect]}`).join('');
}
