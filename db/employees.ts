// The SAMPLE EMPLOYEE table: reads are statements, writes are audited procedures.
import type { CallContext, Host, HostValue, RequestContext, Row } from './host.js';
import { auditArgs, outcomeOf } from './procedures.js';
import { statements } from './statements.js';
import { asNumber, asOneOf, asOptionalMoney, asString, asTrimmed, firstRow } from './values.js';

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
  sex: (typeof SEXES)[number] | null;
  birthDate: string | null;
  salary: string | null;
  bonus: string | null;
  comm: string | null;
}

export const SEXES = ['M', 'F'] as const;

export type EmployeeFields = Omit<Employee, 'empno'>;

/** Domain field → EMPLOYEE column, in the procedures' parameter order. */
const COLUMNS = [
  ['firstName', 'firstnme'], ['midInit', 'midinit'], ['lastName', 'lastname'], ['workDept', 'workdept'],
  ['phoneNo', 'phoneno'], ['hireDate', 'hiredate'], ['job', 'job'], ['edLevel', 'edlevel'], ['sex', 'sex'],
  ['birthDate', 'birthdate'], ['salary', 'salary'], ['bonus', 'bonus'], ['comm', 'comm'],
] as const satisfies readonly (readonly [keyof EmployeeFields, string])[];

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
    sex: row.sex === null ? null : asOneOf(row.sex, SEXES, 'sex'),
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

export async function listEmployees(host: Host, query: EmployeeQuery, context?: CallContext): Promise<{ items: Employee[]; total: number }> {
  const dept = query.workDept ?? null;
  const pattern = query.lastNamePrefix === undefined ? null : prefixPattern(query.lastNamePrefix);
  const rows = await host.query(statements.employeeList, [dept, dept, pattern, pattern, query.offset, query.offset + query.limit], context);
  return {
    total: rows[0] ? asNumber(rows[0].total) : 0,
    items: rows.filter((row) => row.empno !== null).map(toEmployee),
  };
}

export async function getEmployee(host: Host, empno: string, context?: CallContext): Promise<Employee | null> {
  const row = firstRow(await host.query(statements.employeeGet, [empno], context));
  return row && toEmployee(row);
}

/** Who does a write, for the audit row the procedure writes with it. */
export interface Actor extends RequestContext {
  customerId: string;
  sessionHash: string;
  device: string | null;
  now: Date;
}

const actorArgs = (actor: Actor): Record<string, HostValue> => ({
  customer_id: actor.customerId, session_hash: actor.sessionHash, ...auditArgs(actor), device: actor.device, now: actor.now,
});

function columnArgs(fields: Partial<EmployeeFields>): Record<string, HostValue> {
  return Object.fromEntries(COLUMNS.map(([field, column]) => [column, fields[field] ?? null]));
}

/** The row as stored, or why there is none. */
export type EmployeeWrite<Refusal extends string> =
  | { status: 'done'; employee: Employee }
  | (Refusal extends string ? { status: Refusal } : never); // one member per refusal, so checks narrow

/** One call: the procedure inserts and answers the stored row (no read back). */
export async function createEmployee(host: Host, employee: Employee, actor: Actor): Promise<EmployeeWrite<'exists' | 'unknown_department'>> {
  const out = await host.call('employee_create', { empno: employee.empno, ...columnArgs(employee), ...actorArgs(actor) }, actor);
  const status = outcomeOf('employee_create', out.status);
  return status === 'done' ? { status, employee: toEmployee(out) } : { status };
}

/** One call: only the fields present in `changes` change; the procedure answers the row as stored. */
export async function updateEmployee(
  host: Host, empno: string, changes: Partial<EmployeeFields>, actor: Actor,
): Promise<EmployeeWrite<'not_found' | 'edlevel_decrease' | 'unknown_department'>> {
  const changed = COLUMNS.filter(([field]) => Object.hasOwn(changes, field)).map(([, column]) => column.toUpperCase());
  const out = await host.call('employee_update', {
    empno, fields: `,${changed.join(',')},`, ...columnArgs(changes), ...actorArgs(actor),
  }, actor);
  const status = outcomeOf('employee_update', out.status);
  return status === 'done' ? { status, employee: toEmployee(out) } : { status };
}

export async function deleteEmployee(host: Host, empno: string, actor: Actor): Promise<'deleted' | 'not_found' | 'referenced'> {
  const out = await host.call('employee_delete', { empno, ...actorArgs(actor) }, actor);
  return outcomeOf('employee_delete', out.status);
}
