import type { ParameterObject, ReferenceObject, SchemaObject } from '@nestjs/swagger';
import { getMetadataStorage } from 'class-validator';
import { INSTANT, POSITION } from '../common/validators';

/**
 * JSON schemas (OpenAPI 3.0 dialect) derived at run time from the
 * class-validator decorators of the DTOs, so the documentation says exactly
 * what validation enforces and cannot drift from it. The @nestjs/swagger CLI
 * plugin is not used: it does not run under SWC (the tests), and it reads
 * TypeScript types, not the validators.
 *
 * Every validator the DTOs use maps to a schema keyword here; one that does
 * not is reported in `unmapped` (test/openapi.e2e-spec.ts requires none), so a
 * new rule cannot slip past the docs unnoticed.
 */

type Schema = SchemaObject & { [key: `x-${string}`]: unknown };
type Constructor = abstract new (...args: never[]) => unknown;
type ValidationMetadata = ReturnType<ReturnType<typeof getMetadataStorage>['getTargetValidationMetadatas']>[number];

/** What the class-validator custom validators of common/validators.ts mean, as schema keywords. */
const OCCURRED_ON_PATTERN = '^\\d{4}(-\\d{2}(-\\d{2})?)?$';
const CUSTOM: Record<string, (schema: Schema) => void> = {
  isOccurredOn: (s) => {
    s.type = 'string';
    addPattern(s, OCCURRED_ON_PATTERN);
    s['x-format'] = 'occurred-on';
    describe(s, 'A real date written YYYY, YYYY-MM or YYYY-MM-DD (news often knows only the month); 2024-02-30 is refused.');
  },
  isAsOf: (s) => {
    s.type = 'string';
    addPattern(s, `^(?:${stripAnchors(INSTANT.source)}|${stripAnchors(POSITION.source)})$`);
    describe(s, 'An ISO-8601 instant written in full with its offset (2024-06-13T14:05:00Z), or a position given by the API (00000000000000000042).');
  },
};

/** class-transformer's @Type(() => X), which says what a nested DTO is. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const transformerStorage = (require('class-transformer/cjs/storage') as {
  defaultMetadataStorage: { findTypeMetadata(target: Constructor, property: string): { typeFunction: () => Constructor } | undefined };
}).defaultMetadataStorage;

export interface DerivedSchemas {
  /** Component schemas by class name, nested DTOs included. */
  schemas: Record<string, Schema>;
  /** `Class.property: validator` for every validator with no schema mapping. */
  unmapped: string[];
}

export interface DeriveOptions {
  /**
   * Classes whose schema allows other properties: DTOs reused to describe
   * responses. Every other schema is closed (additionalProperties: false),
   * since the validation pipe refuses unknown fields.
   */
  open?: ReadonlySet<Constructor>;
}

export const schemaRef = (name: string): ReferenceObject => ({ $ref: `#/components/schemas/${name}` });

/** Schemas for these classes and every DTO nested in them. */
export function deriveSchemas(classes: Iterable<Constructor>, options: DeriveOptions = {}): DerivedSchemas {
  const result: DerivedSchemas = { schemas: {}, unmapped: [] };
  const queue = [...classes];
  const seen = new Set<Constructor>();
  while (queue.length > 0) {
    const cls = queue.shift()!;
    if (seen.has(cls)) continue;
    seen.add(cls);
    const { schema, nested } = objectSchema(cls, result.unmapped);
    if (!options.open?.has(cls)) schema.additionalProperties = false;
    result.schemas[cls.name] = schema;
    queue.push(...nested);
  }
  return result;
}

/** A query DTO as OpenAPI query parameters, one per property, with the same constraints. */
export function queryParameters(cls: Constructor, unmapped: string[] = []): ParameterObject[] {
  const { schema } = objectSchema(cls, unmapped);
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).map(([name, property]) => {
    // Query strings are never null: IsOptional's nullable means nothing here.
    const { description, nullable: _nullable, ...rest } = property as Schema;
    return { name, in: 'query', required: required.has(name), description, schema: rest };
  });
}

function objectSchema(cls: Constructor, unmapped: string[]): { schema: Schema; nested: Constructor[] } {
  const metadatas = getMetadataStorage().getTargetValidationMetadatas(cls as never, '', true, false);
  const byProperty = new Map<string, ValidationMetadata[]>();
  for (const metadata of metadatas) {
    const list = byProperty.get(metadata.propertyName) ?? [];
    list.push(metadata);
    byProperty.set(metadata.propertyName, list);
  }
  const properties: Record<string, Schema> = {};
  const required: string[] = [];
  const nested: Constructor[] = [];
  for (const [property, list] of byProperty) {
    const { schema, optional, nestedType } = propertySchema(cls, property, list, unmapped);
    properties[property] = schema;
    if (!optional) required.push(property);
    if (nestedType) nested.push(nestedType);
  }
  const schema: Schema = { type: 'object', properties };
  if (required.length > 0) schema.required = required;
  return { schema, nested };
}

function propertySchema(cls: Constructor, property: string, list: ValidationMetadata[], unmapped: string[]) {
  const schema: Schema = {};
  let items: Schema | undefined;
  const itemSchema = () => (items ??= {});
  let optional = false;
  let nestedType: Constructor | undefined;
  // Decorators apply bottom-up; read them in source order so patterns keep their order.
  for (const metadata of [...list].reverse()) {
    if (metadata.type === 'conditionalValidation') {
      optional = true;
      // IsOptional (not our Optional, a ValidateIf) lets null through: corrections use null to remove a field.
      if (metadata.name === 'isOptional') schema.nullable = true;
      continue;
    }
    if (metadata.type === 'whitelistValidation') continue;
    if (metadata.type === 'nestedValidation') {
      const type = transformerStorage.findTypeMetadata(metadata.target as Constructor, property)?.typeFunction();
      if (!type) {
        unmapped.push(`${cls.name}.${property}: ValidateNested without @Type`);
        continue;
      }
      nestedType = type;
      const ref = schemaRef(type.name);
      if (metadata.each) Object.assign(itemSchema(), ref);
      else schema.allOf = [ref];
      continue;
    }
    const target = metadata.each ? itemSchema() : schema;
    const [a, b] = (metadata.constraints ?? []) as unknown[];
    switch (metadata.name) {
      case 'isString':
        target.type = 'string';
        break;
      case 'isInt':
        target.type = 'integer';
        break;
      case 'isNumber':
        target.type ??= 'number';
        break;
      case 'isArray':
        target.type = 'array';
        break;
      case 'isObject':
        target.type = 'object';
        break;
      case 'isIn': {
        const values = a as unknown[];
        target.enum = [...values];
        const types = new Set(values.map((v) => typeof v));
        if (types.size === 1) target.type = [...types][0] === 'number' ? 'number' : ([...types][0] as 'string' | 'boolean');
        break;
      }
      case 'matches':
        target.type ??= 'string';
        addPattern(target, a instanceof RegExp ? a.source : String(a));
        break;
      case 'isLength':
        target.type ??= 'string';
        if (typeof a === 'number') target.minLength = a;
        if (typeof b === 'number') target.maxLength = b;
        break;
      case 'maxLength':
        target.type ??= 'string';
        target.maxLength = a as number;
        break;
      case 'minLength':
        target.type ??= 'string';
        target.minLength = a as number;
        break;
      case 'min':
        target.minimum = a as number;
        break;
      case 'max':
        target.maximum = a as number;
        break;
      case 'isPositive':
        target.minimum = 0;
        target.exclusiveMinimum = true;
        break;
      case 'arrayMinSize':
        schema.minItems = a as number;
        break;
      case 'arrayMaxSize':
        schema.maxItems = a as number;
        break;
      case 'arrayUnique':
        schema.uniqueItems = true;
        break;
      case 'isUrl': {
        target.type ??= 'string';
        target.format = 'uri';
        const protocols = (a as { protocols?: string[] } | undefined)?.protocols;
        if (protocols) describe(target, `An absolute ${protocols.join(' or ')} URL.`);
        break;
      }
      default: {
        const custom = metadata.name ? CUSTOM[metadata.name] : undefined;
        if (custom) custom(target);
        else unmapped.push(`${cls.name}.${property}: ${metadata.name ?? metadata.type}`);
      }
    }
  }
  // A $ref stands alone in OpenAPI 3.0: its siblings (isObject's type) would be ignored anyway.
  if (items && '$ref' in items) delete items.type;
  if (items) schema.items = items;
  if (schema.type === 'array' && !schema.items) schema.items = {};
  // A nested object: its $ref carries the type; nullable/description sit beside it in allOf's wrapper.
  // (nullable needs a type beside it, so a nullable one keeps `type: object`.)
  if (schema.allOf && schema.type === 'object' && !schema.nullable) delete schema.type;
  return { schema, optional, nestedType };
}

function addPattern(schema: Schema, pattern: string): void {
  if (schema.pattern === undefined) schema.pattern = pattern;
  else if (schema.pattern !== pattern) (schema.allOf ??= []).push({ pattern });
}

function describe(schema: Schema, text: string): void {
  schema.description = schema.description ? `${schema.description} ${text}` : text;
}

const stripAnchors = (source: string): string => source.replace(/^\^/, '').replace(/\$$/, '');

export type { Schema as DerivedSchema };
