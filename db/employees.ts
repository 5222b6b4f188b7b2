// The SAMPLE EMPLOYEE table: reads are statements, writes are audited procedures.
import type { Host, HostValue, Row } from './host.js';
import type { RequestContext } from './sessions.js';
import { statements } from './statements.js';
import { asNumber, asOptionalMoney, asString, asTrimmed, unexpectedStatus } from './values.js';

export interface Employee {
  empno: string;
  firstName: string;
  midInit: string | null;
  lastName: string;
  workDept: string | null;
  phoneNo: string | null;
  hireDate: string | null;
  job: string | null;
  edLevel: number;
  sex: 'M' | 'F' | null;
  birthDate: string | null;
  salary: string | null;
  bonus: string | null;
  comm: string | null;
}

export type EmployeeFields = Omit<Employee, 'empno'>;

/** Domain field → EMPLOYEE column, in the procedures' parameter order. */
const COLUMNS: Record<keyof EmployeeFields, string> = {
  firstName: 'firstnme', midInit: 'midinit', lastName: 'lastname', workDept: 'workdept',
  phoneNo: 'phoneno', hireDate: 'hiredate', job: 'job', edLevel: 'edlevel', sex: 'sex',
  birthDate: 'birthdate', salary: 'salary', bonus: 'bonus', comm: 'comm',
};

function toEmployee(row: Row): Employee {
  return {
    empno: asString(asTrimmed(row.empno)),
    firstName: asString(row.firstnme),
    midInit: asTrimmed(row.midinit) || null,
    lastName: asString(row.lastname),
    workDept: asTrimmed(row.workdept),
    phoneNo: asTrimmed(row.phoneno),
    hireDate: asTrimmed(row.hiredate),
    job: asTrimmed(row.job),
    edLevel: asNumber(row.edlevel),
    sex: asTrimmed(row.sex) as Employee['sex'],
    birthDate: asTrimmed(row.birthdate),
    salary: asOptionalMoney(row.salary),
    bonus: asOptionalMoney(row.bonus),
    comm: asOptionalMoney(row.comm),
  };
}

export interface EmployeeQuery {
  limit: number;
  offset: number;
  workDept?: string;
  lastNamePrefix?: string;
}

/** LIKE pattern for a case-insensitive prefix, with the user's % and _ taken literally. */
const prefixPattern = (prefix: string): string => `${prefix.toUpperCase().replace(/[!%_]/g, '!$&')}%`;

export async function listEmployees(host: Host, query: EmployeeQuery): Promise<{ items: Employee[]; total: number }> {
  const dept = query.workDept ?? null;
  const pattern = query.lastNamePrefix === undefined ? null : prefixPattern(query.lastNamePrefix);
  const rows = await host.query(statements.employeeList, [dept, dept, pattern, pattern, query.offset, query.limit]);
  return {
    total: rows.length === 0 ? 0 : asNumber(rows[0].total),
    items: rows.filter((row) => row.empno !== null).map(toEmployee),
  };
}

export async function getEmployee(host: Host, empno: string): Promise<Employee | null> {
  const rows = await host.query(statements.employeeGet, [empno]);
  return rows.length === 0 ? null : toEmployee(rows[0]);
}

/** Who does a write, for the audit row the procedure writes with it. */
export interface Actor extends RequestContext {
  customerId: string;
  sessionHash: string;
  device: string | null;
  now: Date;
}

const actorArgs = (actor: Actor): Record<string, HostValue> => ({
  customer_id: actor.customerId, session_hash: actor.sessionHash, request_id: actor.requestId,
  client_address: actor.clientAddress, device: actor.device, now: actor.now,
});

function columnArgs(fields: Partial<EmployeeFields>): Record<string, HostValue> {
  const args: Record<string, HostValue> = {};
  for (const [field, column] of Object.entries(COLUMNS)) {
    args[column] = fields[field as keyof EmployeeFields] ?? null;
  }
  return args;
}

/** 'created', or 'exists' when the empno is taken. */
export async function createEmployee(host: Host, employee: Employee, actor: Actor): Promise<'created' | 'exists'> {
  const out = await host.call('employee_create', { empno: employee.empno, ...columnArgs(employee), ...actorArgs(actor) });
  return asNumber(out.status) === 0 ? 'created' : 'exists';
}

export async function updateEmployee(
  host: Host, empno: string, changes: Partial<EmployeeFields>, actor: Actor,
): Promise<'updated' | 'not_found' | 'edlevel_decrease'> {
  const changed = (Object.keys(changes) as (keyof EmployeeFields)[]).map((field) => COLUMNS[field].toUpperCase());
  const out = await host.call('employee_update', {
    empno, fields: `,${changed.join(',')},`, ...columnArgs(changes), ...actorArgs(actor),
  });
  const status = asNumber(out.status);
  return (['updated', 'not_found', 'edlevel_decrease'] as const)[status] ?? unexpectedStatus('employee_update', status);
}

export async function deleteEmployee(host: Host, empno: string, actor: Actor): Promise<boolean> {
  const out = await host.call('employee_delete', { empno, ...actorArgs(actor) });
  return asNumber(out.status) === 0;
}
