import type { ParameterObject, ReferenceObject, SchemaObject } from '@nestjs/swagger';
import { getMetadataStorage, IS_OPTIONAL, ValidationTypes } from 'class-validator';
import { targetConstructorToSchema, validationMetadatasToSchemas } from 'class-validator-jsonschema';
import { defaultConverters, type ISchemaConverters } from 'class-validator-jsonschema/build/defaultConverters';
import type { IOptions } from 'class-validator-jsonschema/build/options';
import { INSTANT, POSITION } from '../common/validators';

/**
 * Request schemas (OpenAPI 3.0 dialect) derived by class-validator-jsonschema
 * from the DTOs' class-validator decorators, so the documentation says exactly
 * what validation enforces. The @nestjs/swagger CLI plugin is not used: it does
 * not run under SWC (the tests), and it reads TypeScript types, not validators.
 *
 * CONVERTERS adds what the library cannot know: our own validators
 * (common/validators.ts), and OpenAPI 3.0 spellings where the library writes
 * newer JSON Schema. A validator with no converter is reported in `unmapped`
 * (test/openapi.e2e-spec.ts requires none), so a new rule cannot slip past the
 * docs unnoticed: the library would fall back to the property's design type.
 */

type Schema = SchemaObject & { [key: `x-${string}`]: unknown };
type Constructor = abstract new (...args: never[]) => unknown;

const OCCURRED_ON_PATTERN = '^\\d{4}(-\\d{2}(-\\d{2})?)?$';
const stripAnchors = (source: string): string => source.replace(/^\^/, '').replace(/\$$/, '');

/** What IsOccurredOn accepts, as a schema (the live feed's document names it OccurredOn). */
export const OCCURRED_ON_SCHEMA = {
  type: 'string',
  pattern: OCCURRED_ON_PATTERN,
  'x-format': 'occurred-on',
  description: 'A real date written YYYY, YYYY-MM or YYYY-MM-DD (news often knows only the month); 2024-02-30 is refused.',
} as const;

const CONVERTERS: ISchemaConverters = {
  isOccurredOn: OCCURRED_ON_SCHEMA,
  isAsOf: {
    type: 'string',
    pattern: `^(?:${stripAnchors(INSTANT.source)}|${stripAnchors(POSITION.source)})$`,
    description: 'An ISO-8601 instant written in full with its offset (2024-06-13T14:05:00Z), or a position given by the API (00000000000000000042).',
  },
  // IsOptional (not our Optional, a ValidateIf) lets null through: corrections use null to remove a field.
  [ValidationTypes.CONDITIONAL_VALIDATION]: (meta) => (meta.name === IS_OPTIONAL ? { nullable: true } : {}),
  // OpenAPI 3.0 writes an exclusive minimum as a flag beside minimum.
  isPositive: { type: 'number', minimum: 0, exclusiveMinimum: true as never },
  isUrl: (meta) => {
    const protocols = (meta.constraints?.[0] as { protocols?: string[] } | undefined)?.protocols;
    return { type: 'string', format: 'uri', ...(protocols ? { description: `An absolute ${protocols.join(' or ')} URL.` } : {}) };
  },
};

/** class-transformer's @Type(() => X) says what a nested DTO is; its storage has no typed entry point. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { defaultMetadataStorage } = require('class-transformer/cjs/storage') as { defaultMetadataStorage: IOptions['classTransformerMetadataStorage'] };

const OPTIONS: Partial<IOptions> = {
  refPointerPrefix: '#/components/schemas/',
  classTransformerMetadataStorage: defaultMetadataStorage,
  additionalConverters: CONVERTERS,
};

export const schemaRef = (name: string): ReferenceObject => ({ $ref: `#/components/schemas/${name}` });

export interface DerivedSchemas {
  /** Component schemas by class name, nested DTOs included. */
  schemas: Record<string, Schema>;
  /** `Class.property: validator` for every validator with no schema mapping. */
  unmapped: string[];
}

/**
 * Schemas for these classes and every DTO nested in them. `open` names classes
 * whose schema allows other properties (DTOs reused to describe responses);
 * every other one is closed, since the validation pipe refuses unknown fields.
 */
export function requestSchemas(classes: Iterable<Constructor>, open: ReadonlySet<Constructor> = new Set()): DerivedSchemas {
  const all = validationMetadatasToSchemas(OPTIONS) as Record<string, Schema>;
  const byName = new Map<string, Constructor>([...validationTargets()].map((cls) => [cls.name, cls]));
  const roots = [...classes];
  for (const cls of roots) byName.set(cls.name, cls);
  // A root by its own name: PartialType's classes hold their rules on an anonymous parent.
  const schemaOf = (name: string): Schema | undefined => {
    const root = roots.find((cls) => cls.name === name);
    return root ? (targetConstructorToSchema(root as never, OPTIONS) as Schema) : all[name];
  };
  const openNames = new Set([...open].map((cls) => cls.name));
  const schemas: Record<string, Schema> = {};
  const queue = roots.map((cls) => cls.name);
  while (queue.length > 0) {
    const name = queue.shift()!;
    const found = schemas[name] ? undefined : schemaOf(name);
    if (!found) continue;
    const schema = tidy(found);
    if (!openNames.has(name)) schema.additionalProperties = false;
    schemas[name] = schema;
    queue.push(...[...JSON.stringify(schema).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]));
  }
  const documented = Object.keys(schemas).flatMap((name) => byName.get(name) ?? []);
  return { schemas, unmapped: unmappedValidators(documented) };
}

/** A query DTO as OpenAPI query parameters, one per property, with the same constraints. */
export function queryParameters(cls: Constructor): ParameterObject[] {
  const schema = tidy(targetConstructorToSchema(cls as never, OPTIONS) as Schema);
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).map(([name, property]) => {
    // Query strings are never null: IsOptional's nullable means nothing here.
    const { description, nullable: _nullable, ...rest } = property as Schema;
    return { name, in: 'query', required: required.has(name), description, schema: rest };
  });
}

/** A $ref stands alone in OpenAPI 3.0: a nested DTO's nullable goes beside it in an allOf, its implied type goes. */
function tidy(schema: Schema): Schema {
  const alone = (property: Schema & { $ref?: string }): Schema => {
    const { $ref, type: _type, ...rest } = property;
    if (!$ref) return property;
    if (Object.keys(rest).length === 0) return { $ref } as Schema;
    return rest.nullable ? { type: 'object', ...rest, allOf: [{ $ref }] } : { ...rest, allOf: [{ $ref }] };
  };
  const properties = Object.fromEntries(
    Object.entries(schema.properties ?? {}).map(([name, property]) => {
      const tidied = alone(property as Schema);
      return [name, tidied.items ? { ...tidied, items: alone(tidied.items as Schema) } : tidied];
    }),
  );
  return { ...schema, properties } as Schema;
}

/** Every class with validation rules. */
function validationTargets(): Iterable<Constructor> {
  return (getMetadataStorage() as unknown as { validationMetadatas: Map<Constructor, unknown> }).validationMetadatas.keys();
}

/** Validators of these classes (inherited ones included) that no converter, the library's or ours, stands for. */
function unmappedValidators(classes: Constructor[]): string[] {
  const converters = { ...defaultConverters, ...CONVERTERS };
  const storage = getMetadataStorage();
  const unmapped: string[] = [];
  for (const cls of classes) {
    for (const metadata of storage.getTargetValidationMetadatas(cls as never, '', true, false)) {
      const constraint = metadata.constraintCls ? storage.getTargetValidatorConstraints(metadata.constraintCls)[0]?.name : undefined;
      const type = constraint ?? metadata.type;
      if (!(type in converters)) unmapped.push(`${cls.name}.${metadata.propertyName}: ${type}`);
    }
  }
  return unmapped;
}

export type { Schema as DerivedSchema };
