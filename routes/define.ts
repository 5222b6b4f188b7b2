// A route is one declaration: method, path, access, yup schemas for its input
// and output, and a handler. mountRoutes authenticates protected routes,
// validates input against the schemas (routes/validation.ts) and calls the
// handler; openApiDocument describes the same schemas. Handlers receive typed
// input, never the Koa context.
import type Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { AnyObject, AnySchema, InferType, ObjectSchema } from 'yup';
import { problem } from '../contract/problems.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { VerifiedProof } from '../auth/dpop.js';
import type { TransferLimits } from '../db/accounts.js';
import type { Host, RequestContext } from '../db/host.js';
import type { HostSession } from '../db/host-sessions.js';
import { jsonBodyReader } from './body.js';
import { validatedInput } from './validation.js';

export type Access = 'public' | 'session' | 'staff';
type Method = 'get' | 'post' | 'put' | 'delete';
type Schema = ObjectSchema<AnyObject>;

/** What the transfer route enforces: the host's limits, and the amount above which the PIN is asked again. */
export interface TransferPolicy extends TransferLimits {
  stepUpAmount: string;
}

export interface RouteDeps {
  host: Host;
  auth: Authenticator;
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
  /** Where the client sent the request (origin and path): what a DPoP proof's htu names. */
  url: string;
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

export function mountRoutes(router: Router, specs: RouteSpec[], deps: RouteDeps): void {
  const readBody = jsonBodyReader();
  for (const spec of specs) {
    const koaPath = spec.path.replace(/\{(\w+)\}/g, ':$1');
    const routeName = `${spec.method.toUpperCase()} ${spec.path}`;
    router[spec.method](koaPath, async (ctx: Context, next: Next) => {
      ctx.state.route = routeName;
      const now = deps.clock();
      const context = requestContext(ctx);
      const url = requestUrl(ctx, deps.publicOrigin);
      // Header names as node keeps them (lower case): Koa's ctx.get need not fold them again.
      const dpop = ctx.get('dpop');
      // A client speaking DPoP always gets the current nonce, so its next proof needs no extra round trip.
      if (dpop) ctx.set('DPoP-Nonce', deps.auth.nonce(now));
      let session: HostSession | undefined;
      let proof: VerifiedProof | null = null;
      if (spec.access !== 'public') {
        ({ session, proof } = await deps.auth.authenticate({ authorization: ctx.get('authorization'), dpop, method: ctx.method, url }, context, now));
        context.customerId = session.customerId;
        if (spec.access === 'staff' && session.role !== 'staff') throw problem('forbidden', { detail: 'This needs a staff session.' });
      }
      if (spec.body) await readBody(ctx);
      const { params, query, body, headers } = validatedInput(spec, ctx);
      const input = { params, query, body, headers, session, proof, context, now, url } as Input<Schema, Schema, Schema, Schema>;
      const reply = await spec.handle(input);
      ctx.status = reply.status;
      if (reply.headers) for (const [name, value] of Object.entries(reply.headers)) ctx.set(name, value);
      if (reply.body !== undefined) ctx.body = reply.body;
      await next();
    });
  }
}
