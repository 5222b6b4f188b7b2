// A route is one declaration: method, path, access, yup schemas for its input
// and output, and a handler. mountRoutes validates input against the schemas;
// openApiDocument describes the same schemas. Handlers receive typed input.
import type Router from '@koa/router';
import type { Context, Next } from 'koa';
import { ValidationError, type AnyObject, type AnySchema, type InferType, type ObjectSchema } from 'yup';
import { jsonBodyReader } from './body.js';
import { AppError, Forbidden, InvalidDpopProof, InvalidToken, ValidationFailed, type FieldError } from './errors.js';
import type { Auth } from '../auth/auth.js';
import type { DpopVerifier, VerifiedProof } from '../auth/dpop.js';
import type { Resolution } from '../auth/session.js';
import type { TransferLimits } from '../db/accounts.js';
import type { Host } from '../db/host.js';
import type { HostSession, RequestContext } from '../db/sessions.js';

export type Access = 'public' | 'session' | 'staff';
type Method = 'get' | 'post' | 'put' | 'delete';
type Schema = ObjectSchema<AnyObject>;

/** What the transfer route enforces: the host's limits, and the amount above which the PIN is asked again. */
export interface TransferPolicy extends TransferLimits {
  stepUpAmount: string;
}

export interface RouteDeps {
  host: Host;
  auth: Auth;
  /** PUBLIC_ORIGIN: the origin clients address (DPoP htu), when the request's own Host cannot be trusted to be it. */
  publicOrigin: string | null;
  transferPolicy: TransferPolicy;
  clock: () => Date;
  /** Set while the process drains before exit: readiness turns 503 so balancers stop sending. */
  lifecycle: { draining: boolean };
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Input<P extends Schema, Q extends Schema, B extends Schema, H extends Schema, A extends Access = Access> {
  params: InferType<P>;
  query: InferType<Q>;
  body: InferType<B>;
  headers: InferType<H>;
  /** The resolved host session: present exactly on protected routes. */
  session: A extends 'public' ? undefined : HostSession;
  /** The checked DPoP proof of a device-bound session's request (its key signs transfers), else null. */
  proof: VerifiedProof | null;
  context: RequestContext;
  now: Date;
  ctx: Context;
}

export interface ResponseSpec {
  description: string;
  schema?: AnySchema;
  headers?: Record<string, string>;
}

export interface RouteSpec<P extends Schema = Schema, Q extends Schema = Schema, B extends Schema = Schema, H extends Schema = Schema, A extends Access = Access> {
  method: Method;
  /** OpenAPI style: /api/sample/employee/{empno} */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  access: A;
  params?: P;
  query?: Q;
  body?: B;
  headers?: H;
  responses: Record<number, ResponseSpec>;
  /** Problem responses this route can give, besides the ones every route gives. */
  problems: number[];
  handle(input: Input<P, Q, B, H, A>): Promise<Reply>;
}

/** Identity function that lets TypeScript infer a route's schema types and access. */
export function route<P extends Schema, Q extends Schema, B extends Schema, H extends Schema, A extends Access>(
  spec: RouteSpec<P, Q, B, H, A>,
): RouteSpec {
  return spec;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string', number: 'a number', boolean: 'true or false', object: 'an object', array: 'an array', date: 'a date',
};

/**
 * The service's own words for a failed check, without the field's name (the
 * error's path carries it). Messages the schemas spell out themselves
 * (patterns, named tests) are used as they are.
 */
function messageFor(e: ValidationError): string {
  const params = (e.params ?? {}) as Record<string, unknown>;
  const bound = (limit: unknown) => (typeof e.value === 'string' ? `${String(limit)} characters` : String(limit));
  switch (e.type) {
    case 'typeError': return `must be ${TYPE_NAMES[String(params.type)] ?? 'of another type'}`;
    case 'optionality':
    case 'required': return 'is required';
    case 'nullable': return 'must not be null';
    case 'integer': return 'must be a whole number';
    case 'oneOf': return `must be one of ${(params.values as string | undefined) ?? 'the listed values'}`;
    case 'min': return `must be at least ${bound(params.min)}`;
    case 'max': return `must be at most ${bound(params.max)}`;
    case 'length': return `must be exactly ${String(params.length)} characters`;
    default: return e.message;
  }
}

/**
 * One path style everywhere: a body field by its own path (`pin`,
 * `items.0.amount`), any other input with its location first
 * (`query.limit`, `path.empno`, `header.Idempotency-Key`).
 */
function fieldPath(where: string, path: string | undefined): string {
  // yup writes keys that are not identifiers as ["Idempotency-Key"]; ours are plain segments.
  const plain = (path ?? '').replace(/\["([^"]*)"\]/g, '.$1').replace(/\[(\d+)\]/g, '.$1').replace(/^\./, '');
  return `${where}${plain}`;
}

function fieldErrors(error: ValidationError, where: string): FieldError[] {
  const inner = error.inner.length ? error.inner : [error];
  return inner.map((e) => ({ path: fieldPath(where, e.path), message: messageFor(e) }));
}

/**
 * Characters no stored text may hold: C0 controls (tab and line breaks
 * included: a device label or reference with CR/LF forges lines in any text
 * export of the audit), DEL and C1 controls, the Unicode line and paragraph
 * separators, and the bidirectional embeddings, overrides and isolates that
 * make text display in an order other than it is stored (U+202E).
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** Paths of strings (and object keys) holding such characters, anywhere in the input. */
function unsafeTextPaths(value: unknown, path: string): string[] {
  if (typeof value === 'string') return UNSAFE_TEXT.test(value) ? [path] : [];
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, inner]) => {
      const at = path ? `${path}.${key}` : key;
      return UNSAFE_TEXT.test(key) ? [at] : unsafeTextPaths(inner, at);
    });
  }
  return [];
}

const rejectsUnknown = new WeakMap<Schema, boolean>();

/**
 * Keys a noUnknown schema does not declare, as own properties: a key named
 * __proto__, constructor or toString is an unknown field, never a lookup on
 * Object.prototype (yup itself throws on those, PITFALLS.md).
 */
function unknownKeyErrors(schema: Schema, value: unknown, where: string): FieldError[] {
  let rejects = rejectsUnknown.get(schema);
  if (rejects === undefined) {
    rejects = schema.describe().tests.some((t) => t.name === 'noUnknown');
    rejectsUnknown.set(schema, rejects);
  }
  if (!rejects || !value || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.keys(value).filter((key) => !Object.hasOwn(schema.fields, key))
    .map((key) => ({ path: `${where}${key}`, message: 'is not a known field' }));
}

function validated(schema: Schema | undefined, value: unknown, where: string, strict: boolean): unknown {
  if (!schema) return {};
  const bad = unsafeTextPaths(value, '');
  if (bad.length) throw new ValidationFailed(bad.map((path) => ({ path: `${where}${path}`, message: 'must not contain control or text-direction characters' })));
  // Unknown keys are refused before yup sees them; the known ones are then checked in full.
  const unknown = unknownKeyErrors(schema, value, where);
  try {
    // Synchronous: no schema here has an async test, and validateSync costs a fraction of validate().
    const result = schema.validateSync(unknown.length ? knownFields(schema, value) : value ?? {}, { abortEarly: false, strict });
    if (unknown.length) throw new ValidationFailed(unknown);
    return result;
  } catch (error) {
    if (error instanceof ValidationError) throw new ValidationFailed([...fieldErrors(error, where), ...unknown]);
    throw error;
  }
}

/** The value without the keys its schema does not declare. */
function knownFields(schema: Schema, value: unknown): Record<string, unknown> {
  if (!value || typeof value !== 'object') return {};
  return Object.fromEntries(Object.entries(value).filter(([key]) => Object.hasOwn(schema.fields, key)));
}

/** Query strings: a parameter given twice is an error, not an array. */
function singleValued(query: Record<string, string | string[] | undefined>): Record<string, string> {
  // No prototype: a parameter named __proto__ stays an ordinary (unknown) key.
  const single: Record<string, string> = Object.create(null) as Record<string, string>;
  const repeated: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (typeof value === 'string') single[key] = value;
    else if (value !== undefined) repeated.push(key);
  }
  if (repeated.length) throw new ValidationFailed(repeated.map((k) => ({ path: `query.${k}`, message: 'must be given once' })));
  return single;
}

/** A route that declares no query parameters takes none: any it is given is unknown, as in a body. */
function noQuery(ctx: Context): Record<string, never> {
  const given = ctx.querystring ? Object.keys(singleValued(ctx.query)) : [];
  if (given.length) throw new ValidationFailed(given.map((key) => ({ path: `query.${key}`, message: 'is not a known field' })));
  return {};
}

function headerInput(spec: RouteSpec, ctx: Context): Record<string, string> {
  const names = Object.keys(spec.headers?.fields ?? {});
  return Object.fromEntries(names.flatMap((name) => (ctx.get(name) ? [[name, ctx.get(name)]] : [])));
}

export function requestContext(ctx: Context): RequestContext {
  return { requestId: ctx.state.requestId, clientAddress: ctx.ip.slice(0, 45), traceId: ctx.state.traceId ?? null };
}

/**
 * Where the client sent the request (origin and path, no query): what a DPoP
 * proof's htu must name. PUBLIC_ORIGIN when set (behind a load balancer that
 * rewrites Host); otherwise the request's own, honouring trusted proxies.
 */
export function requestUrl(ctx: Context, publicOrigin: string | null): string {
  // Koa 3's ctx.origin is the Origin request header: build ours from protocol and Host.
  return `${publicOrigin ?? `${ctx.protocol}://${ctx.host}`}${ctx.path}`;
}

/** Turns a refused session into the 401 its scheme prescribes. */
function refusal(resolution: Exclude<Resolution, { status: 'alive' }>, dpop: DpopVerifier, now: Date): AppError {
  if (resolution.status === 'session_expired') return new InvalidToken('session_expired', undefined, resolution.scheme);
  if (resolution.error === 'invalid_token') return new InvalidToken('invalid_token', undefined, resolution.scheme);
  return new InvalidDpopProof(resolution.error, dpop.nonceFor(now));
}

export function mountRoutes(router: Router, specs: RouteSpec[], deps: RouteDeps): void {
  const readBody = jsonBodyReader();
  for (const spec of specs) {
    const koaPath = spec.path.replace(/\{(\w+)\}/g, ':$1');
    router[spec.method](koaPath, async (ctx: Context, next: Next) => {
      ctx.state.route = `${spec.method.toUpperCase()} ${spec.path}`;
      const now = deps.clock();
      const context = requestContext(ctx);
      // A client speaking DPoP always gets the current nonce, so its next proof needs no extra round trip.
      if (ctx.get('DPoP')) ctx.set('DPoP-Nonce', deps.auth.dpop.nonceFor(now));
      let session: HostSession | undefined;
      let proof: VerifiedProof | null = null;
      if (spec.access !== 'public') {
        const resolution = await deps.auth.sessions.resolve({
          authorization: ctx.get('Authorization'), dpop: ctx.get('DPoP'), method: ctx.method, url: requestUrl(ctx, deps.publicOrigin),
        }, context, now);
        if (resolution.status !== 'alive') throw refusal(resolution, deps.auth.dpop, now);
        ({ session, proof } = resolution);
        context.customerId = session.customerId;
        if (spec.access === 'staff' && session.role !== 'staff') throw new Forbidden('forbidden', 'This needs a staff session.');
      }
      if (spec.body) await readBody(ctx);
      const input = {
        params: validated(spec.params, ctx.params, 'path.', false),
        query: spec.query ? validated(spec.query, singleValued(ctx.query), 'query.', false) : noQuery(ctx),
        body: validated(spec.body, spec.body ? ctx.request.body : undefined, '', true),
        headers: validated(spec.headers, headerInput(spec, ctx), 'header.', false),
        session, proof, context, now, ctx,
      } as Input<Schema, Schema, Schema, Schema>;
      const reply = await spec.handle(input);
      ctx.status = reply.status;
      for (const [name, value] of Object.entries(reply.headers ?? {})) ctx.set(name, value);
      if (reply.body !== undefined) ctx.body = reply.body;
      await next();
    });
  }
}

