// /api/sample/employee: the Db2 SAMPLE EMPLOYEE table. Any session reads; staff writes.
import { array, number, object, string, type InferType } from 'yup';
import { problem } from '../contract/problems.js';
import {
  createEmployee, deleteEmployee, getEmployee, listEmployees, updateEmployee,
  SEXES, type Actor, type Employee,
} from '../db/employees.js';
import type { RequestContext } from '../db/host.js';
import type { HostSession } from '../db/host-sessions.js';
import { route, type RouteDeps, type RouteSpec } from './define.js';
import { hostText, isoDate, limitQuery, money, queryInt, signedMoney } from './schemas.js';

const empno = () => string().matches(/^[A-Za-z0-9]{6}$/, 'must be 6 letters or digits');

/** Every field but empno, each optional: the shape of a partial update. */
const employeeFields = {
  firstName: hostText(12).min(1),
  midInit: hostText(1).nullable(),
  lastName: hostText(15).min(1),
  workDept: hostText(3).nullable(),
  phoneNo: string().matches(/^\d{4}$/, 'must be 4 digits').nullable(),
  hireDate: isoDate().nullable(),
  job: hostText(8).nullable(),
  edLevel: number().integer().min(1).max(30),
  sex: string().oneOf(SEXES).nullable(),
  birthDate: isoDate().nullable(),
  salary: money(7).nullable(),
  bonus: money(7).nullable(),
  comm: money(7).nullable(),
};

const createBody = object({
  ...employeeFields,
  empno: empno().required(),
  firstName: employeeFields.firstName.required(),
  lastName: employeeFields.lastName.required(),
  edLevel: employeeFields.edLevel.required(),
}).noUnknown().strict();

const updateBody = object(employeeFields).noUnknown().strict();

const employeeSchema = object({
  empno: string().required().meta({ example: '000010' }),
  firstName: string().required(),
  midInit: string().nullable().defined(),
  lastName: string().required(),
  workDept: string().nullable().defined(),
  phoneNo: string().nullable().defined(),
  hireDate: string().nullable().defined().meta({ format: 'date' }),
  job: string().nullable().defined(),
  edLevel: number().integer().required(),
  sex: string().oneOf(SEXES).nullable().defined(),
  birthDate: string().nullable().defined().meta({ format: 'date' }),
  salary: signedMoney().nullable().defined(),
  bonus: signedMoney().nullable().defined(),
  comm: signedMoney().nullable().defined(),
});

const pathParams = object({ empno: empno().required() });

const listQuery = object({
  limit: limitQuery(),
  offset: queryInt(0, 1_000_000_000).default(0),
  workDept: string().max(3),
  lastName: string().max(15).meta({ description: 'Last-name prefix, case-insensitive.' }),
}).noUnknown();

const actor = (session: HostSession, context: RequestContext, now: Date): Actor => ({
  ...context, customerId: session.customerId, sessionHash: session.sessionHash, device: session.device, now,
});

const TAG = 'Employees';

export function employeeRoutes({ host }: RouteDeps): RouteSpec[] {
  return [
    route({
      method: 'get', path: '/api/sample/employee', operationId: 'listEmployees', tag: TAG, access: 'session',
      summary: 'List employees', description: 'Ordered by empno; filters combine.',
      query: listQuery,
      responses: { 200: { description: 'A page of employees', schema: object({ items: array(employeeSchema).required(), limit: number().required(), offset: number().required(), total: number().required() }) } },
      problems: [],
      async handle({ query, context }) {
        const { items, total } = await listEmployees(host, {
          limit: query.limit, offset: query.offset, workDept: query.workDept, lastNamePrefix: query.lastName,
        }, context);
        return { status: 200, body: { items, limit: query.limit, offset: query.offset, total } };
      },
    }),
    route({
      method: 'post', path: '/api/sample/employee', operationId: 'createEmployee', tag: TAG, access: 'staff',
      summary: 'Create an employee',
      body: createBody,
      responses: { 201: { description: 'Created', schema: employeeSchema, headers: { Location: 'URL of the new employee' } } },
      problems: [409, 422],
      async handle({ body, session, context, now }) {
        const outcome = await createEmployee(host, withDefaults(body), actor(session, context, now));
        if (outcome.status === 'exists') throw problem('conflict', { detail: `Employee ${body.empno} already exists.` });
        if (outcome.status === 'unknown_department') throw unknownDepartment(body.workDept);
        return { status: 201, body: outcome.employee, headers: { Location: `/api/sample/employee/${outcome.employee.empno}` } };
      },
    }),
    route({
      method: 'get', path: '/api/sample/employee/{empno}', operationId: 'getEmployee', tag: TAG, access: 'session',
      summary: 'Get one employee',
      params: pathParams,
      responses: { 200: { description: 'The employee', schema: employeeSchema } },
      problems: [404],
      async handle({ params, context }) {
        const employee = await getEmployee(host, params.empno, context);
        if (!employee) throw problem('not_found', { detail: `No employee ${params.empno}.` });
        return { status: 200, body: employee };
      },
    }),
    route({
      method: 'put', path: '/api/sample/employee/{empno}', operationId: 'updateEmployee', tag: TAG, access: 'staff',
      summary: 'Update the fields sent',
      description: 'Partial update: fields not sent keep their values. edLevel may never go down (422 edlevel_decrease); '
        + 'workDept must name a department (422 unknown_department).',
      params: pathParams,
      body: updateBody,
      responses: { 200: { description: 'The updated employee', schema: employeeSchema } },
      problems: [404, 422],
      async handle({ params, body, session, context, now }) {
        const outcome = await updateEmployee(host, params.empno, body, actor(session, context, now));
        switch (outcome.status) {
          case 'done': return { status: 200, body: outcome.employee };
          case 'not_found': throw problem('not_found', { detail: `No employee ${params.empno}.` });
          case 'edlevel_decrease': throw problem('edlevel_decrease');
          case 'unknown_department': throw unknownDepartment(body.workDept);
        }
      },
    }),
    route({
      method: 'delete', path: '/api/sample/employee/{empno}', operationId: 'deleteEmployee', tag: TAG, access: 'staff',
      summary: 'Delete an employee',
      params: pathParams,
      responses: { 204: { description: 'Deleted' } },
      problems: [404, 409],
      async handle({ params, session, context, now }) {
        switch (await deleteEmployee(host, params.empno, actor(session, context, now))) {
          case 'deleted': return { status: 204 };
          case 'not_found': throw problem('not_found', { detail: `No employee ${params.empno}.` });
          case 'referenced': throw problem('employee_referenced', { detail: `Other rows refer to employee ${params.empno}.` });
        }
      },
    }),
  ];
}

const unknownDepartment = (workDept: string | null | undefined) =>
  problem('unknown_department', { detail: `No department ${workDept ?? ''} exists; workDept must name one.` });

function withDefaults(body: InferType<typeof createBody>): Employee {
  return {
    empno: body.empno, firstName: body.firstName, lastName: body.lastName, edLevel: body.edLevel,
    midInit: body.midInit ?? null, workDept: body.workDept ?? null, phoneNo: body.phoneNo ?? null,
    hireDate: body.hireDate ?? null, job: body.job ?? null, sex: body.sex ?? null,
    birthDate: body.birthDate ?? null, salary: body.salary ?? null, bonus: body.bonus ?? null, comm: body.comm ?? null,
  };
}
