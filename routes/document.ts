// The OpenAPI 3.0 document, generated from the route declarations.
import type { AnySchema } from 'yup';
import { toJsonSchema, type JsonSchema } from './openapi.js';
import type { RouteSpec } from './define.js';
import { problemSchema } from './schemas.js';

const STATUS_TEXT: Record<number, string> = {
  400: 'Invalid request (validation_failed, malformed_json)',
  401: 'Refused credentials, token or DPoP proof (invalid_credentials, invalid_token, session_expired, invalid_dpop_proof, use_dpop_nonce, dpop_required)',
  403: 'Not allowed for this session (forbidden, bank_mismatch, step_up_required, step_up_failed, signature_required, invalid_signature)',
  404: 'Not found (not_found)',
  405: 'Method not allowed on this path (method_not_allowed), see Allow',
  409: 'Conflict (conflict, insufficient_funds, employee_referenced)',
  413: 'Body too large (payload_too_large)',
  415: 'Body is not application/json (unsupported_media_type)',
  422: 'Semantically invalid (unknown_account, currency_mismatch, same_account, idempotency_key_reused, limit_exceeded, edlevel_decrease, unknown_department)',
  423: 'Account locked (account_locked), see Retry-After',
  429: 'Too many requests (rate_limited, payee_checks_exhausted), see Retry-After',
  500: 'Unexpected failure (internal_error)',
  503: 'Host unavailable, instance draining, or a fleet-wide check that cannot be made now (host_unavailable, shutting_down, temporarily_unavailable), see Retry-After',
};

const problem = (status: number) => ({ $ref: `#/components/responses/Problem${status}` });

function parameters(schema: AnySchema | undefined, location: 'path' | 'query' | 'header'): JsonSchema[] {
  if (!schema) return [];
  const json = toJsonSchema(schema) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, { description, ...schema }]) => ({
    name,
    in: location,
    required: location === 'path' || (json.required ?? []).includes(name),
    ...(description ? { description } : {}),
    schema,
  }));
}

function operation(spec: RouteSpec): JsonSchema {
  const responses: Record<string, unknown> = {};
  for (const [status, response] of Object.entries(spec.responses)) {
    responses[status] = {
      description: response.description,
      ...(response.headers ? { headers: Object.fromEntries(Object.entries(response.headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }])) } : {}),
      ...(response.schema ? { content: { 'application/json': { schema: toJsonSchema(response.schema) } } } : {}),
    };
  }
  const standard = [spec.access !== 'public' ? [401] : [], spec.access === 'staff' ? [403] : [],
    spec.body ? [413, 415] : [], [400, 500, 503]].flat(); // 400: every route refuses unknown query parameters
  for (const status of new Set([...spec.problems, ...standard])) responses[String(status)] = problem(status);
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: [spec.tag],
    ...(spec.access === 'public' ? { security: [] } : {}),
    parameters: [
      ...parameters(spec.params, 'path'),
      ...parameters(spec.query, 'query'),
      ...parameters(spec.headers, 'header'),
    ],
    ...(spec.body ? { requestBody: { required: true, content: { 'application/json': { schema: toJsonSchema(spec.body) } } } } : {}),
    responses,
  };
}

export function openApiDocument(specs: RouteSpec[], version: string): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of specs) (paths[spec.path] ??= {})[spec.method] = operation(spec);
  return {
    openapi: '3.0.3',
    info: {
      title: 'Host session API',
      version,
      description: 'Mobile banking-style REST API in front of a Db2 host. Sessions live on the host; '
        + 'the token names a host session and nothing else, and a device-bound session\u2019s token works only with a '
        + 'DPoP proof by the device key. Errors are RFC 9457 problem details.',
    },
    servers: [{ url: '/' }],
    // Either: a bearer token, or a device-bound token with its DPoP proof (RFC 9449).
    security: [{ bearerAuth: [] }, { dpopAuth: [] }],
    tags: [...new Set(specs.map((s) => s.tag))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        dpopAuth: {
          type: 'http', scheme: 'DPoP',
          description: 'RFC 9449: "Authorization: DPoP <token>" and a "DPoP" header holding a proof (typ dpop+jwt, ES256 or '
            + 'Ed25519) for this method and URL, naming the token (ath) and the current DPoP-Nonce.',
        },
      },
      schemas: { Problem: toJsonSchema(problemSchema) },
      responses: Object.fromEntries(Object.entries(STATUS_TEXT).map(([status, description]) => [`Problem${status}`, {
        description,
        content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
      }])),
    },
  };
}
