// Every response the HTTP suites receive is held against the served OpenAPI
// document, as Fastify holds responses to their schemas: the status must be
// one the operation documents, and the body must match its schema, with no
// field the schema does not name.
import { Ajv, type ValidateFunction } from 'ajv';

type Json = Record<string, unknown>;

interface Operation {
  path: RegExp;
  method: string;
  responses: Record<string, { content?: Record<string, { schema?: Json }> } | { $ref: string }>;
}

/**
 * OpenAPI 3.0 schema objects as JSON Schema: `nullable` becomes a null type,
 * and an object that lists its properties admits no others (undocumented
 * fields fail). A free-form object (no properties, e.g. the scratch pad) stays free.
 */
function strict(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(strict);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'nullable' || key === 'example') continue;
    out[key] = key === 'properties' && value && typeof value === 'object'
      ? Object.fromEntries(Object.entries(value).map(([name, inner]) => [name, strict(inner)]))
      : strict(value);
  }
  const source = schema as Json;
  if (source.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
  }
  if (out.type === 'object' && out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

export class ContractCheck {
  private readonly operations: Operation[] = [];
  private readonly ajv = new Ajv({ allErrors: true, strict: false });
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly problem: ValidateFunction;

  constructor(private readonly document: Json) {
    this.ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
    this.ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
    const components = document.components as { schemas: Json };
    this.problem = this.ajv.compile(strict(components.schemas.Problem) as Json);
    for (const [template, methods] of Object.entries(document.paths as Record<string, Record<string, Operation['responses'] & Json>>)) {
      const path = new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}$`);
      for (const [method, operation] of Object.entries(methods)) {
        this.operations.push({ path, method: method.toUpperCase(), responses: (operation as { responses: Operation['responses'] }).responses });
      }
    }
  }

  /** Throws when the answer is not what the document promises for this operation. */
  check(method: string, url: string, status: number, contentType: string, body: unknown): void {
    const path = url.split('?')[0] ?? url;
    const operation = this.operations.find((op) => op.method === method.toUpperCase() && op.path.test(path));
    const where = `${method} ${path} → ${status}`;
    if (!operation) {
      // Not an operation of the document (an unknown route, /docs, /openapi.json): only problems have a shape to keep.
      if (contentType.startsWith('application/problem+json')) this.validate(this.problem, body, where);
      return;
    }
    const response = operation.responses[String(status)];
    if (!response) throw new Error(`${where}: status not documented for this operation (${Object.keys(operation.responses).join(', ')})`);
    if ('$ref' in response) {
      if (!contentType.startsWith('application/problem+json')) throw new Error(`${where}: a problem must be application/problem+json, got ${contentType}`);
      this.validate(this.problem, body, where);
      return;
    }
    const schema = response.content?.['application/json']?.schema;
    if (!schema) {
      if (body !== '' && body !== undefined) throw new Error(`${where}: the document promises no body, got ${JSON.stringify(body).slice(0, 200)}`);
      return;
    }
    if (!contentType.startsWith('application/json') && !contentType.startsWith('text/plain')) {
      throw new Error(`${where}: expected application/json, got ${contentType}`);
    }
    const key = `${operation.method} ${operation.path.source} ${status}`;
    const validate = this.validators.get(key) ?? this.ajv.compile(strict(schema) as Json);
    this.validators.set(key, validate);
    this.validate(validate, body, where);
  }

  private validate(validate: ValidateFunction, body: unknown, where: string): void {
    if (!validate(body)) {
      throw new Error(`${where}: body does not match the served document: ${this.ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`);
    }
  }
}

const checks = new WeakMap<object, ContractCheck>();

/** The check for a served document, built once per document. */
export function contractFor(document: object): ContractCheck {
  let check = checks.get(document);
  if (!check) {
    check = new ContractCheck(document as Json);
    checks.set(document, check);
  }
  return check;
}
