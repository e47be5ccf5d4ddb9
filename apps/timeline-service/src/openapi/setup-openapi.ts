import type { INestApplication } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import {
  DocumentBuilder,
  SwaggerModule,
  type OpenAPIObject,
  type OperationObject,
  type ResponsesObject,
  type SchemaObject,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { ACCESS, type Access } from '../auth/access';
import type { AppConfig } from '../config/app-config';
import { CHANGES_DTO_OF_KIND, CorrectEntryDto } from '../entries/dto/correct-entry.dto';
import { FIELDS_DTO_OF_KIND } from '../entries/dto/record-entry.dto';
import { requestSchemas, schemaRef } from './request-schemas';
import { DOCUMENTED_DTOS } from './decorators';
import { RESPONSE_SCHEMAS } from './response-schemas';

/** Where the docs are served: Swagger UI at /docs, the document at /docs-json (and /docs-yaml). */
export const DOCS_PATH = 'docs';
export const DOCS_JSON_PATH = 'docs-json';
export const DOCS_YAML_PATH = 'docs-yaml';
export const SECURITY_SCHEME = 'apiKey';

type Constructor = abstract new (...args: never[]) => unknown;
type Rule = Access | ((request: Request) => Access);

/** Validators no schema keyword stands for, found while building the document (the e2e test wants none). */
export const unmappedValidators: string[] = [];

const DESCRIPTION = `An event-sourced timeline service for newsrooms: record announcements, signings and deliveries,
correct and retract them (never deleting), and read timelines with filters, keyset pagination and read-your-writes.

Request schemas are derived from the validation rules the service enforces, so what this page says is what a
request must satisfy; unknown fields are refused (400). Every error has one shape, \`ErrorBody\`, naming the field at fault.

**Keys.** API keys are bearer tokens (\`Authorization: Bearer <key>\`) with a role: \`reader\` (queries), \`editor\`
(also writes), \`auditor\` (also history, as-of queries, \`/events\` and exports). A wrong token is a 401 even where none
is needed; a valid key whose role does not allow the action is a 403. With no keys configured (development mode)
everything is allowed.

**Live feed.** socket.io namespace \`/live\` (not described here): subscribe with the \`position\` of a listing.`;

/**
 * Swagger UI at /docs and the OpenAPI 3 document at /docs-json, built on the
 * first request (the app's routes are known by then) and kept.
 */
export function setupOpenApi(app: INestApplication, config: AppConfig): void {
  SwaggerModule.setup(DOCS_PATH, app, () => buildOpenApiDocument(app, config), {
    jsonDocumentUrl: DOCS_JSON_PATH,
    yamlDocumentUrl: DOCS_YAML_PATH,
    customSiteTitle: 'Timeline service API',
    swaggerOptions: { validatorUrl: null, docExpansion: 'list', tryItOutEnabled: false, persistAuthorization: false },
  });
}

export function buildOpenApiDocument(app: INestApplication, config: AppConfig): OpenAPIObject {
  const base = new DocumentBuilder()
    .setTitle('Timeline service')
    .setDescription(DESCRIPTION)
    .setVersion('1')
    .addBearerAuth(
      // bearerFormat is only a hint, but Nest's default ("JWT") would tell clients to parse the key: keys are opaque.
      { type: 'http', scheme: 'bearer', bearerFormat: 'opaque API key', description: 'An API key: `Authorization: Bearer <key>`. Keys come from API_KEYS / API_KEYS_FILE.' },
      SECURITY_SCHEME,
    )
    .addTag('timelines', 'Open and read timelines')
    .addTag('entries', 'Record, correct, retract and read entries')
    .addTag('audit', 'History, the global log and exports (auditor role)')
    .addTag('live page', 'The built-in newsroom pages (HTML)')
    .addTag('health', 'The state of this instance, and probes for orchestrators')
    .addTag('metrics', 'Prometheus metrics')
    .build();
  const document = SwaggerModule.createDocument(app, base);

  const fields = Object.values(FIELDS_DTO_OF_KIND) as Constructor[];
  const changes = Object.values(CHANGES_DTO_OF_KIND) as Constructor[];
  const derived = requestSchemas([...DOCUMENTED_DTOS, ...fields, ...changes], new Set(fields));
  unmappedValidators.splice(0, unmappedValidators.length, ...derived.unmapped);
  const correct = derived.schemas[CorrectEntryDto.name];
  if (correct?.properties?.changes) {
    // Checked against the entry's kind once it is loaded; null removes an optional field.
    correct.properties.changes = {
      ...(correct.properties.changes as SchemaObject),
      description:
        "The fields to change, validated as when recording, against the entry's kind; null removes an optional field " +
        '(summary, pledge, place, termYears, value, channel). kind and entryId never change.',
      anyOf: changes.map((cls) => schemaRef(cls.name)),
    };
  }
  document.components = {
    ...document.components,
    schemas: { ...withoutEmptyNestSchemas(document.components?.schemas ?? {}), ...derived.schemas, ...RESPONSE_SCHEMAS },
  };

  const rules = accessRules(app);
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of ['get', 'post', 'patch', 'put', 'delete'] as const) {
      const operation = item[method];
      if (!operation) continue;
      describeAccess(operation, method, rules.get(operation.operationId ?? ''), config);
    }
  }
  return document;
}

/** ACCESS metadata (@Requires) of every controller method, by Nest's operationId `<Controller>_<method>`. */
function accessRules(app: INestApplication): Map<string, Rule | undefined> {
  const rules = new Map<string, Rule | undefined>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const type = wrapper.metatype as (Constructor & { prototype: Record<string, unknown> }) | undefined;
      if (!type) continue;
      for (const key of Object.getOwnPropertyNames(type.prototype)) {
        const handler = type.prototype[key];
        if (key === 'constructor' || typeof handler !== 'function') continue;
        const rule = (Reflect.getMetadata(ACCESS, handler) ?? Reflect.getMetadata(ACCESS, type)) as Rule | undefined;
        rules.set(`${type.name}_${key}`, rule);
      }
    }
  }
  return rules;
}

const ROLES: Record<Access, string> = { read: 'reader, editor or auditor', write: 'editor', audit: 'auditor' };

function describeAccess(operation: OperationObject, method: string, rule: Rule | undefined, config: AppConfig): void {
  const responses = operation.responses as ResponsesObject;
  const error = (description: string) => ({ description, content: { 'application/json': { schema: schemaRef('ErrorBody') } } });
  responses['401'] ??= error('A bearer token that is not a valid API key (even where none is needed), or none where one is needed.');
  if (rule === undefined) {
    operation.security = [];
    return;
  }
  const plain = typeof rule === 'function' ? rule({ query: {} } as Request) : rule;
  const asOf = typeof rule === 'function' ? rule({ query: { asOf: '2024-01-01T00:00:00Z' } } as unknown as Request) : rule;
  const needsKey = (access: Access) => access !== 'read' || !config.publicReads;
  operation.security = needsKey(plain) ? [{ [SECURITY_SCHEME]: [] }] : [{}, { [SECURITY_SCHEME]: [] }];
  const access = plain === asOf ? `role ${ROLES[plain]}` : `role ${ROLES[plain]}; with asOf, role ${ROLES[asOf]}`;
  const publicNote = !needsKey(plain) ? ' (public while PUBLIC_READS=true)' : '';
  operation.description = [operation.description, `Access: ${access}${publicNote}.`].filter(Boolean).join('\n\n');
  (operation as unknown as Record<string, unknown>)['x-access'] = plain === asOf ? plain : { default: plain, asOf };
  if (needsKey(plain) || needsKey(asOf)) responses['403'] ??= error("A valid key whose role does not allow this.");
  if (plain === 'write') {
    responses['413'] ??= error('The body is over 256 KB of JSON.');
    responses['429'] ??= error('Over RATE_LIMIT_WRITES_PER_MINUTE writes for this key (or address); Retry-After says when to retry.');
    responses['503'] ??= error('The event store cannot take writes now; nothing was recorded. Queries keep working.');
  }
  void method;
}

/** Nest adds an empty schema for a DTO class it meets without @ApiProperty; ours replace those, and unused ones go. */
function withoutEmptyNestSchemas<T>(schemas: Record<string, T>): Record<string, T> {
  return Object.fromEntries(
    Object.entries(schemas).filter(([, schema]) => {
      const properties = (schema as SchemaObject).properties;
      return properties !== undefined && Object.keys(properties).length > 0;
    }),
  );
}
