// Request validation: every input a route declares (path, query, headers,
// body) checked against its yup schema, and what no schema could say: no
// unknown keys (as own keys, never a prototype lookup), no query parameter
// given twice, no stored text with control or text-direction characters.
// Failures are 400 validation_failed with one path style and the service's
// own words.
import type { Context } from 'koa';
import { ValidationError, type AnyObject, type ObjectSchema } from 'yup';
import { invalid, type FieldError } from '../contract/problems.js';

type Schema = ObjectSchema<AnyObject>;

/** The schemas a route declares for its input. */
export interface InputSchemas {
  params?: Schema;
  query?: Schema;
  body?: Schema;
  headers?: Schema;
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

/** Adds to `found` the paths of strings (and object keys) holding such characters, anywhere in the input. */
function collectUnsafeText(value: unknown, path: string, found: string[]): void {
  if (typeof value === 'string') {
    if (UNSAFE_TEXT.test(value)) found.push(path);
    return;
  }
  if (!value || typeof value !== 'object') return;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const at = path ? `${path}.${key}` : key;
    if (UNSAFE_TEXT.test(key)) found.push(at);
    else collectUnsafeText((value as Record<string, unknown>)[key], at, found);
  }
}

const rejectsUnknown = new WeakMap<Schema, boolean>();

/**
 * Keys a noUnknown schema does not declare, as own properties: a key named
 * __proto__, constructor or toString is an unknown field, never a lookup on
 * Object.prototype (yup itself throws on those: conventions.test.ts
 * "refuses body fields named constructor or toString as unknown fields").
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
  const bad: string[] = [];
  collectUnsafeText(value, '', bad);
  if (bad.length) throw invalid(bad.map((path) => ({ path: `${where}${path}`, message: 'must not contain control or text-direction characters' })));
  // Unknown keys are refused before yup sees them; the known ones are then checked in full.
  const unknown = unknownKeyErrors(schema, value, where);
  try {
    // Synchronous: no schema here has an async test, and validateSync costs a fraction of validate().
    const result = schema.validateSync(unknown.length ? knownFields(schema, value) : value ?? {}, { abortEarly: false, strict });
    if (unknown.length) throw invalid(unknown);
    return result;
  } catch (error) {
    if (error instanceof ValidationError) throw invalid([...fieldErrors(error, where), ...unknown]);
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
  if (repeated.length) throw invalid(repeated.map((k) => ({ path: `query.${k}`, message: 'must be given once' })));
  return single;
}

/** A route that declares no query parameters takes none: any it is given is unknown, as in a body. */
function noQuery(ctx: Context): Record<string, never> {
  const given = ctx.querystring ? Object.keys(singleValued(ctx.query)) : [];
  if (given.length) throw invalid(given.map((key) => ({ path: `query.${key}`, message: 'is not a known field' })));
  return {};
}

function headerInput(schema: Schema | undefined, ctx: Context): Record<string, string> {
  const names = Object.keys(schema?.fields ?? {});
  return Object.fromEntries(names.flatMap((name) => {
    const value = ctx.get(name);
    return value ? [[name, value]] : [];
  }));
}

/** The route's input, each part validated against its schema (an undeclared part is empty). */
export function validatedInput(schemas: InputSchemas, ctx: Context): { params: unknown; query: unknown; body: unknown; headers: unknown } {
  return {
    params: validated(schemas.params, ctx.params, 'path.', false),
    query: schemas.query ? validated(schemas.query, singleValued(ctx.query), 'query.', false) : noQuery(ctx),
    body: validated(schemas.body, schemas.body ? ctx.request.body : undefined, '', true),
    headers: validated(schemas.headers, headerInput(schemas.headers, ctx), 'header.', false),
  };
}
