// The OpenAPI 3.0 document, generated from the route declarations and the
// table of problems.
import type { AnySchema } from 'yup';
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
      responses: problemResponses(),
    },
  };
}
