// yup schemas → OpenAPI 3.0 schema objects. Routes declare yup schemas once;
// validation and the served document both come from them, so they cannot disagree.
import type { AnySchema, SchemaDescription, SchemaFieldDescription } from 'yup';

export type JsonSchema = Record<string, unknown>;

interface Meta {
  description?: string;
  example?: unknown;
  format?: string;
  pattern?: string;
}

function fromDescription(description: SchemaFieldDescription): JsonSchema {
  const d = description as SchemaDescription & { meta?: Meta; fields?: Record<string, SchemaFieldDescription>; innerType?: SchemaFieldDescription };
  const schema: JsonSchema = {};
  switch (d.type) {
    case 'object': {
      const fields = d.fields ?? {};
      schema.type = 'object';
      schema.properties = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, fromDescription(v)]));
      const required = Object.entries(fields)
        .filter(([, v]) => !(v as SchemaDescription).optional)
        .map(([k]) => k);
      if (required.length) schema.required = required;
      if (d.tests.some((t) => t.name === 'noUnknown')) schema.additionalProperties = false;
      else if (Object.keys(fields).length === 0) schema.additionalProperties = true; // a free-form object (the scratch pad)
      break;
    }
    case 'array':
      schema.type = 'array';
      if (d.innerType) schema.items = fromDescription(d.innerType);
      break;
    case 'number':
      schema.type = d.tests.some((t) => t.name === 'integer') ? 'integer' : 'number';
      break;
    case 'mixed':
      schema.type = 'object';
      break;
    case 'date':
      schema.type = 'string';
      schema.format = 'date-time';
      break;
    default:
      schema.type = d.type;
  }
  for (const test of d.tests) {
    const p = (test.params ?? {}) as Record<string, unknown>;
    const isString = d.type === 'string';
    const isArray = d.type === 'array';
    if (test.name === 'min') schema[isString ? 'minLength' : isArray ? 'minItems' : 'minimum'] = p.min;
    if (test.name === 'max') schema[isString ? 'maxLength' : isArray ? 'maxItems' : 'maximum'] = p.max;
    if (test.name === 'length') { schema.minLength = p.length; schema.maxLength = p.length; }
    if (test.name === 'matches' && p.regex instanceof RegExp) schema.pattern = p.regex.source;
  }
  const values = d.oneOf.filter((v) => v !== null && v !== undefined);
  if (values.length) schema.enum = values;
  if (d.nullable) schema.nullable = true;
  const fallback = (d as { default?: unknown }).default;
  if (fallback !== undefined && d.type !== 'object') schema.default = fallback;
  if (d.meta?.description) schema.description = d.meta.description;
  if (d.meta?.example !== undefined) schema.example = d.meta.example;
  if (d.meta?.format) schema.format = d.meta.format;
  if (d.meta?.pattern) schema.pattern = d.meta.pattern;
  return schema;
}

export function toJsonSchema(schema: AnySchema): JsonSchema {
  return fromDescription(schema.describe());
}
