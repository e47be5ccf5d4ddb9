/**
 * The OpenAPI 3.0 schema dialect (what the HTTP document is written in) as plain
 * JSON Schema (what AsyncAPI documents and json-schema-to-typescript read): null
 * is a type rather than a `nullable` flag, and an exclusive minimum is a number
 * rather than a flag beside `minimum`. Examples go: they are not part of a shape.
 */
export function openApiToJsonSchema(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(openApiToJsonSchema);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) if (key !== 'example' && key !== 'examples') out[key] = openApiToJsonSchema(inner);
  if (out.exclusiveMinimum === true) {
    out.exclusiveMinimum = out.minimum;
    delete out.minimum;
  }
  if (out.nullable === true) {
    delete out.nullable;
    if (typeof out.type === 'string' && !out.allOf && !out.$ref) out.type = [out.type, 'null'];
    else {
      // A nullable nested DTO ({type: object, allOf: [$ref]}): that DTO, or null.
      const { description, type: _type, ...rest } = out;
      return { ...(description === undefined ? {} : { description }), anyOf: [rest, { type: 'null' }] };
    }
  }
  return out;
}
