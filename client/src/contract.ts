// The service's contract as the client uses it: named types for each body,
// taken from the generated api-types.ts (never written by hand), and where
// each operation lives, checked against the generated paths when compiled.
import type { components, operations, paths } from './api-types.js';
import type { Exchange, HttpMethod, Reply } from './transport.js';

export type OperationId = keyof operations;
type Responses<Id extends OperationId> = operations[Id]['responses'];
type JsonOf<Response> = Response extends { content: { 'application/json': infer Body } } ? Body : undefined;

/** The body of an operation's answer with `Status`. */
export type Answer<Id extends OperationId, Status extends keyof Responses<Id>> = JsonOf<Responses<Id>[Status]>;
/** The body of any of an operation's success answers (undefined for 204). */
export type Success<Id extends OperationId> = {
  [Status in keyof Responses<Id>]: Status extends 200 | 201 | 204 ? JsonOf<Responses<Id>[Status]> : never
}[keyof Responses<Id>];
type RequestBody<Id extends OperationId> = operations[Id] extends { requestBody: { content: { 'application/json': infer Body } } } ? Body : never;
type Query<Id extends OperationId> = NonNullable<operations[Id]['parameters']['query']>;

export type Problem = components['schemas']['Problem'];
export type LoginResult = Answer<'login', 201>;
export type Session = Answer<'getSession', 200>;
export type DeviceSession = Answer<'listSessions', 200>['items'][number];
export type Account = Answer<'listAccounts', 200>['items'][number];
export type TransactionPage = Answer<'listTransactions', 200>;
export type Transaction = TransactionPage['items'][number];
export type TransactionQuery = Query<'listTransactions'>;
export type Transfer = Answer<'createTransfer', 201>;
export type TransferBody = RequestBody<'createTransfer'>;
export type Employee = Answer<'getEmployee', 200>;
export type EmployeePage = Answer<'listEmployees', 200>;
export type EmployeeQuery = Query<'listEmployees'>;
export type NewEmployee = RequestBody<'createEmployee'>;
export type EmployeeChanges = RequestBody<'updateEmployee'>;

type Method = 'get' | 'post' | 'put' | 'delete';
/** Every [method, path] of the served document whose operation has the shape of `Id`. */
type RouteOf<Id extends OperationId> = {
  [Path in keyof paths]: { [M in Method]: paths[Path][M] extends operations[Id] ? readonly [M, Path] : never }[Method]
}[keyof paths];

/**
 * Where the operations the client calls live. `satisfies` holds each entry
 * to the generated paths: a route the document drops or moves stops the
 * client compiling, instead of failing at run time.
 */
export const ROUTES = {
  login: ['post', '/api/auth/login'],
  refresh: ['post', '/api/auth/refresh'],
  getSession: ['get', '/api/auth/session'],
  logout: ['delete', '/api/auth/session'],
  listSessions: ['get', '/api/auth/sessions'],
  logoutAll: ['delete', '/api/auth/sessions'],
  endSession: ['delete', '/api/auth/sessions/{ref}'],
  listAccounts: ['get', '/api/accounts'],
  listTransactions: ['get', '/api/accounts/{accountId}/transactions'],
  createTransfer: ['post', '/api/transfers'],
  listEmployees: ['get', '/api/sample/employee'],
  createEmployee: ['post', '/api/sample/employee'],
  getEmployee: ['get', '/api/sample/employee/{empno}'],
  updateEmployee: ['put', '/api/sample/employee/{empno}'],
  deleteEmployee: ['delete', '/api/sample/employee/{empno}'],
} as const satisfies { [Id in OperationId]?: RouteOf<Id> };

export type RoutedOperation = keyof typeof ROUTES;

/** What a call fills in: path parameters, query, body, extra headers. */
export interface CallInput {
  path?: Record<string, string>;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
}

const HTTP_METHODS = { get: 'GET', post: 'POST', put: 'PUT', delete: 'DELETE' } as const satisfies Record<string, HttpMethod>;

/** The request for operation `id`: its method, and its path with the parameters filled in. */
export function exchangeFor(id: RoutedOperation, input: CallInput = {}): Exchange {
  const [method, template] = ROUTES[id];
  const path = template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(input.path?.[name] ?? ''));
  return {
    method: HTTP_METHODS[method], path,
    ...(input.query ? { query: input.query } : {}),
    ...(input.body !== undefined ? { body: input.body } : {}),
    ...(input.headers ? { headers: input.headers } : {}),
  };
}

/**
 * A success answer's body as the contract types it: the one place the client
 * takes the service's JSON to be what the served document says. The drift
 * test (test/client/types.test.ts) keeps those types and the document equal.
 */
export function bodyOf<Id extends RoutedOperation>(reply: Reply): Success<Id> {
  return reply.body as Success<Id>;
}
