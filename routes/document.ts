// The OpenAPI 3.0 document, generated from the route declarations and the
// table of problems.
import type { AnySchema } from 'yup';
import { DPOP_ALGORITHMS } from '../auth/refusals.js';
import { codesOf, STATUS_MEANINGS } from '../contract/problems.js';
import { toJsonSchema, type JsonSchema } from './openapi.js';
import type { RouteSpec } from './define.js';
import { problemSchema } from './schemas.js';

/** A shared response per status: what it means and the problem codes it carries, from the one table. */
const problemResponses = () => Object.fromEntries(Object.entries(STATUS_MEANINGS).map(([status, meaning]) => [`Problem${status}`, {
  description: `${meaning} (${codesOf(Number(status)).join(', ')})`,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
}]));

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

export interface DocumentOptions {
  /** SESSION_BINDING. With `required` the service refuses bearer tokens, so the document offers DPoP only and says what that means for Try it out. */
  binding?: 'optional' | 'required';
}

/**
 * Said at the top of /docs when every session must be device-bound: Swagger UI
 * sends no DPoP proof (it has no device key), so its Try it out gets 401 on
 * login and on every protected route, and a developer should learn why before trying.
 */
const BOUND_ONLY_NOTE = '**This service requires device-bound sessions** (SESSION_BINDING=required): login needs a DPoP proof '
  + '(RFC 9449) and every later request a proof by the same device key; bearer tokens are refused. '
  + 'Try it out cannot sign DPoP proofs, so on this page it reaches the health routes only: use the client kit '
  + '(@host-session/client, client/ in the repository) or another DPoP-capable client.';

export function openApiDocument(specs: RouteSpec[], version: string, { binding = 'optional' }: DocumentOptions = {}): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of specs) (paths[spec.path] ??= {})[spec.method] = operation(spec);
  const boundOnly = binding === 'required';
  const dpopAuth = {
    type: 'http', scheme: 'DPoP',
    description: 'RFC 9449: "Authorization: DPoP <token>" and a "DPoP" header holding a proof (typ dpop+jwt, alg '
      + `${DPOP_ALGORITHMS.join(', ')}) for this method and URL, naming the token (ath) and the current DPoP-Nonce.`,
  };
  const bearerAuth = {
    type: 'http', scheme: 'bearer', bearerFormat: 'JWT',
    description: 'The token of a session logged in without a DPoP proof (tokenType Bearer).',
  };
  return {
    openapi: '3.0.3',
    info: {
      title: 'Host session API',
      version,
      description: 'Mobile banking-style REST API in front of a Db2 host. Sessions live on the host; '
        + 'the token names a host session and nothing else, and a device-bound session\u2019s token works only with a '
        + 'DPoP proof by the device key. Errors are RFC 9457 problem details.'
        + (boundOnly ? `\n\n${BOUND_ONLY_NOTE}` : ''),
    },
    servers: [{ url: '/' }],
    // A bearer token (unless every session must be bound), or a device-bound token with its DPoP proof (RFC 9449).
    security: boundOnly ? [{ dpopAuth: [] }] : [{ bearerAuth: [] }, { dpopAuth: [] }],
    tags: [...new Set(specs.map((s) => s.tag))].map((name) => ({ name })),
    paths,
    components: {
      // Only the schemes the service accepts: Swagger UI's Authorize dialog offers every one listed here.
      securitySchemes: boundOnly ? { dpopAuth } : { bearerAuth, dpopAuth },
      schemas: { Problem: toJsonSchema(problemSchema) },
      responses: problemResponses(),
    },
  };
}
