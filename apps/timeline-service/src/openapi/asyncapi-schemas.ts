import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ACTOR_ID, POSITION, UUID } from '../common/validators';
import { AnnouncementFieldsDto, DeliveryFieldsDto, SigningFieldsDto } from '../entries/dto/record-entry.dto';
import { MAX_MESSAGE_BYTES, SubscribeMessage, UnsubscribeMessage } from '../live/dto/live-messages.dto';
import { openApiToJsonSchema } from './json-schema';
import { OCCURRED_ON_SCHEMA, requestSchemas, type DerivedSchema } from './request-schemas';
import { RESPONSE_SCHEMAS } from './response-schemas';

/**
 * The schemas of docs/asyncapi.yaml that are defined elsewhere, so that the live
 * feed's document does not write them a second time:
 * - what a client sends (SubscribePayload, UnsubscribePayload) from the gateway's
 *   DTOs, by class-validator-jsonschema, as the HTTP requests are;
 * - the entry an update carries from the HTTP document's own definitions (the
 *   fields' DTOs and EntryMeta), flattened into one object narrowed on `kind`;
 * - the shared atoms (Slug, Position, ActorId, ...) from the validators' patterns.
 * What only the live feed has (acks, update, updates, resync, shutdown) is written
 * in the YAML itself, its one home.
 *
 *   node -r @swc-node/register apps/timeline-service/src/openapi/asyncapi-schemas.ts
 *
 * rewrites those entries of the YAML's components.schemas, keeping everything else;
 * test/asyncapi.e2e-spec.ts fails when the file is not what this makes of today's code.
 */

export const ASYNCAPI_FILE = join(__dirname, '..', '..', '..', '..', 'docs', 'asyncapi.yaml');

type Schema = Record<string, unknown>;

/** The generated entries of docs/asyncapi.yaml's components.schemas, by name. */
export function asyncApiSchemas(): Record<string, Schema> {
  const live = requestSchemas([SubscribeMessage, UnsubscribeMessage]).schemas;
  const fieldsOf = { announcement: AnnouncementFieldsDto, signing: SigningFieldsDto, delivery: DeliveryFieldsDto } as const;
  const fields = requestSchemas(Object.values(fieldsOf), new Set(Object.values(fieldsOf))).schemas;
  const meta = RESPONSE_SCHEMAS.EntryMeta as Schema & { properties: Schema; required: string[] };

  // Every kind's fields in one object; which are required depends on the kind (oneOf below).
  const kinds = Object.entries(fieldsOf).map(([kind, dto]) => ({ kind, schema: fields[dto.name] as DerivedSchema }));
  const common = kinds.map((k) => k.schema.required ?? []).reduce((a, b) => a.filter((name) => b.includes(name)));
  const properties: Schema = { kind: meta.properties.kind };
  for (const { schema } of kinds) Object.assign(properties, schema.properties);
  const { kind: _kind, ...metaProperties } = meta.properties;
  Object.assign(properties, metaProperties);
  const entry: Schema = {
    description: 'The entry as GET /entries/{id} shows it after the change.',
    type: 'object',
    // A recorded entry always has sources, tags and relatedTo (empty when none were given).
    required: ['kind', ...common, 'sources', 'tags', 'relatedTo', ...meta.required.filter((name) => name !== 'kind')],
    properties,
    oneOf: kinds.map(({ kind, schema }) => ({
      title: kind,
      properties: { kind: { const: kind } },
      required: (schema.required ?? []).filter((name) => !common.includes(name)),
    })),
  };

  const limited = (schema: DerivedSchema, description: string) => ({
    ...schema,
    description,
    'x-max-bytes': MAX_MESSAGE_BYTES,
  });
  const slug = (live[SubscribeMessage.name].properties as Schema).timeline as Schema;
  const schemas: Record<string, unknown> = {
    Slug: { ...slug, description: "A timeline's slug, lowercase-kebab such as japan-ukraine-support." },
    Position: {
      type: 'string',
      description:
        'A position in the event log as the API hands them out: 20 digits (the embedded store),\n' +
        "or two groups of 20 digits joined by a dash (KurrentDB's commit and prepare positions).\n" +
        'Positions compare in log order as plain strings.\n',
      pattern: POSITION.source,
    },
    ActorId: { type: 'string', description: 'An actor such as JP, UA, NATO or US.', pattern: ACTOR_ID.source },
    EntryId: { type: 'string', description: 'A lowercase UUID.', pattern: UUID.source },
    OccurredOn: OCCURRED_ON_SCHEMA,
    Instant: { type: 'string', format: 'date-time' },
    SubscribePayload: limited(live[SubscribeMessage.name], `At most ${MAX_MESSAGE_BYTES} bytes as JSON; unknown fields are refused.`),
    UnsubscribePayload: limited(live[UnsubscribeMessage.name], `At most ${MAX_MESSAGE_BYTES} bytes as JSON; unknown fields are refused.`),
    Entry: entry,
    ...Object.fromEntries(Object.entries(fields).filter(([name]) => !kinds.some((k) => k.schema === fields[name]))),
    CorrectionNote: RESPONSE_SCHEMAS.CorrectionNote,
    RetractionNote: RESPONSE_SCHEMAS.RetractionNote,
  };
  return openApiToJsonSchema(schemas) as Record<string, Schema>;
}

/** docs/asyncapi.yaml with its generated schemas replaced by what asyncApiSchemas() makes now; the rest as written. */
export function asyncApiDocument(text: string = readFileSync(ASYNCAPI_FILE, 'utf8')): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const YAML = require('yaml') as typeof import('yaml');
  const document = YAML.parseDocument(text);
  for (const [name, schema] of Object.entries(asyncApiSchemas())) document.setIn(['components', 'schemas', name], document.createNode(schema));
  return document.toString({ lineWidth: 0, flowCollectionPadding: false });
}

if (require.main === module) {
  writeFileSync(ASYNCAPI_FILE, asyncApiDocument());
  console.log(`wrote ${ASYNCAPI_FILE}`);
}
