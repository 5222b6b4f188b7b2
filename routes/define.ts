// A route is one declaration: method, path, access, yup schemas for its input
// and output, and a handler. mountRoutes validates input against the schemas;
// openApiDocument describes the same schemas. Handlers receive typed input.
import type Router from '@koa/router';
import type { Context, Next } from 'koa';
import { ValidationError, type AnyObject, type AnySchema, type InferType, type ObjectSchema } from 'yup';
import { Forbidden, InvalidToken, ValidationFailed, type FieldError } from './errors.js';
import type { Auth } from '../auth/auth.js';
import type { Host } from '../db/host.js';
import type { HostSession, RequestContext } from '../db/sessions.js';

export type Access = 'public' | 'session' | 'staff';
type Method = 'get' | 'post' | 'put' | 'delete';
type Schema = ObjectSchema<AnyObject>;

export interface RouteDeps {
  host: Host;
  auth: Auth;
  clock: () => Date;
  /** Prometheus exposition of this process (built by app/, handed down). */
  metrics: { contentType: string; text(): Promise<string> };
  /** Set while the process drains before exit: readiness turns 503 so balancers stop sending. */
  lifecycle: { draining: boolean };
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Input<P extends Schema, Q extends Schema, B extends Schema, H extends Schema> {
  params: InferType<P>;
  query: InferType<Q>;
  body: InferType<B>;
  headers: InferType<H>;
  /** The resolved host session (protected routes only). */
  session: HostSession;
  context: RequestContext;
  now: Date;
  ctx: Context;
}

export interface ResponseSpec {
  description: string;
  schema?: AnySchema;
  headers?: Record<string, string>;
}

export interface RouteSpec<P extends Schema = Schema, Q extends Schema = Schema, B extends Schema = Schema, H extends Schema = Schema> {
  method: Method;
  /** OpenAPI style: /api/sample/employee/{empno} */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  access: Access;
  params?: P;
  query?: Q;
  body?: B;
  headers?: H;
  responses: Record<number, ResponseSpec>;
  /** Problem responses this route can give, besides the ones every route gives. */
  problems: number[];
  handle(input: Input<P, Q, B, H>): Promise<Reply>;
}

/** Identity function that lets TypeScript infer a route's schema types. */
export function route<P extends Schema, Q extends Schema, B extends Schema, H extends Schema>(
  spec: RouteSpec<P, Q, B, H>,
): RouteSpec {
  return spec as unknown as RouteSpec;
}

function fieldErrors(error: ValidationError, prefix: string): FieldError[] {
  const inner = error.inner.length ? error.inner : [error];
  return inner.flatMap((e) => {
    if (e.type === 'noUnknown') {
      const unknown = String((e.params as { unknown?: string }).unknown ?? '').split(', ').filter(Boolean);
      return unknown.map((key) => ({ path: `${prefix}${e.path ? `${e.path}.` : ''}${key}`, message: 'is not a known field' }));
    }
    return [{ path: `${prefix}${e.path ?? ''}`, message: e.errors[0] ?? e.message }];
  });
}

/** Paths of strings holding control characters: no host column may store them (NUL breaks PostgreSQL outright). */
function controlCharacterPaths(value: unknown, path: string): string[] {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  if (typeof value === 'string') return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(value) ? [path] : [];
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, inner]) => controlCharacterPaths(inner, path ? `${path}.${key}` : key));
  }
  return [];
}

const rejectsUnknown = new WeakMap<Schema, boolean>();

/** Keys a noUnknown schema does not declare (yup drops them silently when it casts query strings). */
function unknownKeyErrors(schema: Schema, value: unknown, where: string): FieldError[] {
  let rejects = rejectsUnknown.get(schema);
  if (rejects === undefined) {
    rejects = schema.describe().tests.some((t) => t.name === 'noUnknown');
    rejectsUnknown.set(schema, rejects);
  }
  if (!rejects || !value || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.keys(value).filter((key) => !(key in schema.fields))
    .map((key) => ({ path: `${where}${key}`, message: 'is not a known field' }));
}

function validated(schema: Schema | undefined, value: unknown, where: string, strict: boolean): unknown {
  if (!schema) return {};
  const bad = controlCharacterPaths(value, '');
  if (bad.length) throw new ValidationFailed(bad.map((path) => ({ path: `${where}${path}`, message: 'must not contain control characters' })));
  const unknown = unknownKeyErrors(schema, value, where);
  try {
    // Synchronous: no schema here has an async test, and validateSync costs a fraction of validate().
    const result = schema.validateSync(value ?? {}, { abortEarly: false, strict });
    if (unknown.length) throw new ValidationFailed(unknown);
    return result;
  } catch (error) {
    if (error instanceof ValidationError) {
      const known = fieldErrors(error, where).filter((e) => !unknown.some((u) => u.path === e.path));
      throw new ValidationFailed([...known, ...unknown]);
    }
    throw error;
  }
}

/** Query strings: a parameter given twice is an error, not an array. */
function singleValued(query: Record<string, string | string[] | undefined>): Record<string, string | undefined> {
  const repeated = Object.entries(query).filter(([, v]) => Array.isArray(v)).map(([k]) => k);
  if (repeated.length) throw new ValidationFailed(repeated.map((k) => ({ path: `query.${k}`, message: 'must be given once' })));
  return query as Record<string, string | undefined>;
}

function headerInput(spec: RouteSpec, ctx: Context): Record<string, string> {
  const names = Object.keys(spec.headers?.fields ?? {});
  return Object.fromEntries(names.flatMap((name) => (ctx.get(name) ? [[name, ctx.get(name)]] : [])));
}

export function requestContext(ctx: Context): RequestContext {
  return { requestId: ctx.state.requestId, clientAddress: ctx.ip.slice(0, 45) };
}

export function mountRoutes(router: Router, specs: RouteSpec[], deps: RouteDeps): void {
  for (const spec of specs) {
    const koaPath = spec.path.replace(/\{(\w+)\}/g, ':$1');
    router[spec.method](koaPath, async (ctx: Context, next: Next) => {
      ctx.state.route = `${spec.method.toUpperCase()} ${spec.path}`;
      const now = deps.clock();
      const context = requestContext(ctx);
      let session = undefined as unknown as HostSession;
      if (spec.access !== 'public') {
        const resolution = await deps.auth.sessions.resolve(ctx.get('Authorization'), context, now);
        if (resolution.status === 'invalid_token') throw new InvalidToken();
        if (resolution.status === 'session_expired') throw new InvalidToken('session_expired');
        session = resolution.session;
        if (spec.access === 'staff' && session.role !== 'staff') throw new Forbidden('forbidden', 'This needs a staff session.');
      }
      const input = {
        params: validated(spec.params, ctx.params, 'params.', false),
        query: spec.query ? validated(spec.query, singleValued(ctx.query), 'query.', false) : {},
        body: validated(spec.body, spec.body ? ctx.request.body : undefined, '', true),
        headers: validated(spec.headers, headerInput(spec, ctx), 'headers.', false),
        session, context, now, ctx,
      } as Input<Schema, Schema, Schema, Schema>;
      const reply = await spec.handle(input);
      ctx.status = reply.status;
      for (const [name, value] of Object.entries(reply.headers ?? {})) ctx.set(name, value);
      if (reply.body !== undefined) ctx.body = reply.body;
      await next();
    });
  }
}

