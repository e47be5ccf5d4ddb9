import type { ExampleObject, SchemaObject } from '@nestjs/swagger';
import { ENTRY_KINDS } from '@timeline/domain';
import { POSITION, SLUG, UUID } from '../common/validators';
import { ERROR_TABLE } from '../common/error-table';
import { LAG_CAP } from '../health/projection-status';
import { schemaRef } from './request-schemas';

/**
 * The shapes the service answers with: their one definition on the wire.
 * Requests are derived from the DTOs' validators (request-schemas.ts); answers
 * are plain objects, with no class to derive them from, so their schemas are
 * written here, test/openapi.e2e-spec.ts checks real answers against them, and
 * everything else is generated from them: the TypeScript types of the answers,
 * which the server and the client both use (@timeline/contracts, by
 * libs/contracts/generate-wire-types.ts), and the live feed's entry in
 * docs/asyncapi.yaml (asyncapi-schemas.ts).
 *
 * Past 300 lines by the example bodies at the end, which the controllers and
 * the tests import from here.
 */

const position: SchemaObject = {
  type: 'string',
  pattern: POSITION.source,
  description: 'A position in the global log, as the API hands them out; positions compare in log order as strings.',
  example: '00000000000000000021',
};
const nullablePosition: SchemaObject = { ...position, nullable: true };
const instant: SchemaObject = { type: 'string', format: 'date-time', example: '2024-06-13T14:05:00.000Z' };
const uuid: SchemaObject = { type: 'string', pattern: UUID.source, example: '8a1c3e52-4f0b-4d7e-9c21-6b5e0f3a9d47' };
const slug: SchemaObject = { type: 'string', pattern: SLUG.source, maxLength: 64, example: 'japan-ukraine-support' };
const revision: SchemaObject = { type: 'integer', minimum: 0, description: "The entry's revision: 0 when recorded, +1 per correction or retraction." };

export const RESPONSE_SCHEMAS: Record<string, SchemaObject> = {
  FieldProblem: {
    type: 'object',
    required: ['field', 'problems'],
    properties: {
      field: { type: 'string', description: 'Path of the field at fault, e.g. `items.0.description`, `changes.title`, `If-Match`, `body`.' },
      problems: { type: 'array', minItems: 1, items: { type: 'string' } },
    },
  },
  ErrorBody: {
    type: 'object',
    description: 'Every error has this shape, and names the field at fault.',
    required: ['statusCode', 'error', 'code', 'message'],
    properties: {
      statusCode: { type: 'integer', example: 400 },
      error: { type: 'string', description: 'The HTTP reason phrase.', example: 'Bad Request' },
      code: {
        type: 'string',
        // The codes are the error table's keys: written once, there.
        description: `Stable and machine-readable: ${Object.keys(ERROR_TABLE).join(', ')}.`,
        example: 'invalid',
      },
      message: { type: 'string', example: 'occurredOn must be a real date written YYYY, YYYY-MM or YYYY-MM-DD' },
      errors: { type: 'array', items: schemaRef('FieldProblem'), description: 'With 400 (and 413): each field at fault and its problems.' },
    },
    example: {
      statusCode: 400,
      error: 'Bad Request',
      code: 'invalid',
      message: 'occurredOn must be a real date written YYYY, YYYY-MM or YYYY-MM-DD',
      errors: [{ field: 'occurredOn', problems: ['occurredOn must be a real date written YYYY, YYYY-MM or YYYY-MM-DD'] }],
    },
  },
  TimelineOpened: {
    type: 'object',
    required: ['slug', 'position'],
    properties: { slug, position },
  },
  Timeline: {
    type: 'object',
    required: ['slug', 'title', 'description', 'entryCount', 'retractedCount', 'openedAt', 'updatedAt', 'position'],
    properties: {
      slug,
      title: { type: 'string' },
      description: { type: 'string' },
      entryCount: { type: 'integer', minimum: 0, description: 'Entries that are not retracted.' },
      retractedCount: { type: 'integer', minimum: 0 },
      openedAt: instant,
      updatedAt: instant,
      position: { ...position, description: 'Position of the last event that changed this timeline or one of its entries.' },
    },
  },
  TimelineList: {
    type: 'object',
    required: ['items'],
    properties: { items: { type: 'array', items: schemaRef('Timeline') } },
  },
  EntryWritten: {
    type: 'object',
    required: ['entryId', 'revision', 'position'],
    properties: { entryId: uuid, revision, position },
    example: { entryId: '8a1c3e52-4f0b-4d7e-9c21-6b5e0f3a9d47', revision: 0, position: '00000000000000000021' },
  },
  CorrectionNote: {
    type: 'object',
    required: ['revision', 'reason', 'fields', 'correctedAt', 'correctedBy'],
    properties: {
      revision,
      reason: { type: 'string' },
      fields: { type: 'array', items: { type: 'string' } },
      correctedAt: instant,
      correctedBy: { type: 'string' },
    },
  },
  RetractionNote: {
    type: 'object',
    required: ['reason', 'retractedAt', 'retractedBy'],
    properties: { reason: { type: 'string' }, retractedAt: instant, retractedBy: { type: 'string' } },
  },
  EntryMeta: {
    type: 'object',
    required: ['entryId', 'timeline', 'kind', 'revision', 'status', 'recordedAt', 'recordedBy', 'updatedAt', 'position', 'corrections'],
    properties: {
      entryId: uuid,
      timeline: slug,
      kind: { type: 'string', enum: [...ENTRY_KINDS] },
      revision,
      status: { type: 'string', enum: ['active', 'retracted'] },
      recordedAt: instant,
      recordedBy: { type: 'string', description: "The API key's name, or anonymous in development mode." },
      updatedAt: instant,
      position: { ...position, description: 'Position of the last event applied to this entry.' },
      corrections: { type: 'array', items: schemaRef('CorrectionNote') },
      retraction: schemaRef('RetractionNote'),
    },
  },
  Entry: {
    description:
      "An entry as the API serves it: the common and the kind's fields flat (see AnnouncementFieldsDto, SigningFieldsDto, " +
      'DeliveryFieldsDto), plus its history in brief. `ETag: "<revision>"` comes with it.',
    allOf: [
      schemaRef('EntryMeta'),
      { anyOf: [schemaRef('AnnouncementFieldsDto'), schemaRef('SigningFieldsDto'), schemaRef('DeliveryFieldsDto')] },
    ],
  },
  EntryPage: {
    type: 'object',
    required: ['items', 'nextCursor', 'position'],
    properties: {
      items: { type: 'array', items: schemaRef('Entry') },
      nextCursor: { type: 'string', nullable: true, description: 'Pass it as `cursor` for the next page; null on the last page.' },
      position: {
        ...nullablePosition,
        description:
          "The read model's checkpoint at the moment of the query (subscribe to the live feed after it), or with asOf the position it resolved to; null on an empty log.",
      },
      asOf: { type: 'string', description: 'With asOf: the asOf asked for, echoed.' },
    },
  },
  HistoryItem: {
    type: 'object',
    required: ['type', 'revision', 'position', 'recordedAt', 'recordedBy', 'data', 'metadata'],
    properties: {
      type: { type: 'string', example: 'entry.recorded' },
      revision,
      position,
      recordedAt: instant,
      recordedBy: { type: 'string' },
      data: { type: 'object', additionalProperties: true },
      metadata: {
        type: 'object',
        additionalProperties: true,
        description: 'recordedBy, correlationId, causationId, schemaVersion, and the hash chain: prevHash and hash (SHA-256, hex).',
      },
    },
  },
  History: {
    type: 'object',
    required: ['items'],
    properties: { items: { type: 'array', items: schemaRef('HistoryItem'), description: 'Every event of the entry, oldest first.' } },
  },
  LogItem: {
    type: 'object',
    required: ['position', 'id', 'stream', 'type', 'revision', 'recordedAt', 'data', 'metadata'],
    properties: {
      position,
      id: { type: 'string', description: 'The event id.' },
      stream: { type: 'string', example: 'entry-8a1c3e52-4f0b-4d7e-9c21-6b5e0f3a9d47' },
      type: { type: 'string', example: 'entry.recorded' },
      revision: { type: 'integer', minimum: 0 },
      recordedAt: instant,
      data: { type: 'object', additionalProperties: true },
      metadata: { type: 'object', additionalProperties: true },
    },
  },
  EventsPage: {
    type: 'object',
    required: ['items', 'next'],
    properties: {
      items: { type: 'array', items: schemaRef('LogItem') },
      next: { ...nullablePosition, description: 'Pass it as `after` for the next page; null when the page was not full (the end of the log for now).' },
    },
  },
  TimelineJsDocument: {
    type: 'object',
    description:
      'Knight Lab TimelineJS JSON, ready to embed; `text` values are HTML-escaped. TimelineJS makes the title slide optional; ' +
      'this export always has one, made of the timeline’s title and description.',
    required: ['title', 'events'],
    properties: {
      title: { type: 'object', required: ['text'], properties: { text: schemaRef('TimelineJsText') } },
      events: {
        type: 'array',
        // TimelineJS refuses a document without events ("Timeline configuration has no events").
        minItems: 1,
        description: 'One event per active entry, in date order; a timeline without entries has one event instead, its opening (`unique_id` "opened", no `group`).',
        items: {
          type: 'object',
          required: ['start_date', 'text', 'unique_id'],
          properties: {
            start_date: {
              type: 'object',
              description: "At the entry's own precision: a month-only date has no day. The opening event: the UTC day of openedAt.",
              required: ['year'],
              properties: { year: { type: 'integer' }, month: { type: 'integer', minimum: 1, maximum: 12 }, day: { type: 'integer', minimum: 1, maximum: 31 } },
            },
            text: schemaRef('TimelineJsText'),
            group: { type: 'string', enum: [...ENTRY_KINDS], description: "The entry's kind; absent on the opening event." },
            unique_id: { type: 'string', description: 'The entryId; "opened" for the opening event.', pattern: `${UUID.source}|^opened$` },
          },
        },
      },
    },
  },
  TimelineJsText: {
    type: 'object',
    required: ['headline', 'text'],
    properties: { headline: { type: 'string' }, text: { type: 'string' } },
  },
  HealthProblem: {
    type: 'object',
    required: ['code', 'message'],
    properties: { code: { type: 'string', enum: ['store_unavailable', 'projection_stalled', 'dead_letters'] }, message: { type: 'string' } },
  },
  HealthReport: {
    type: 'object',
    description: 'Still 200 when degraded, so a store outage does not take every instance out of a load balancer: alert on `status`, route on the code.',
    required: ['status', 'checkpoint', 'head', 'lag', 'deadLetters', 'store', 'problems'],
    properties: {
      status: { type: 'string', enum: ['ok', 'degraded'], description: 'ok when nothing below is wrong; degraded when `problems` says what is.' },
      checkpoint: { ...nullablePosition, description: 'The last position the read model applied, or null.' },
      head: { ...nullablePosition, description: 'The last position of the log, or null when the log is empty or cannot be read now.' },
      lag: { type: 'integer', minimum: 0, nullable: true, description: `Events the read model has yet to apply (counted up to ${LAG_CAP}), or null when unknown.` },
      deadLetters: { type: 'integer', minimum: 0, description: 'Events the projector could not apply and set aside (never retried on their own).' },
      store: {
        type: 'string',
        enum: ['ok', 'unavailable'],
        description: 'unavailable when the store failed a write or a read lately and has not succeeded since.',
      },
      problems: { type: 'array', items: schemaRef('HealthProblem') },
    },
  },
};

// ---------------------------------------------------------------------------
// Example request bodies. test/openapi.e2e-spec.ts sends each to the real API.

export const EXAMPLE_SLUG = 'nato-indo-pacific';

export const OPEN_TIMELINE_EXAMPLE = {
  slug: EXAMPLE_SLUG,
  title: 'NATO and its Indo-Pacific partners',
  description: 'How Japan, South Korea, Australia and New Zealand draw closer to NATO.',
};

export const RECORD_EXAMPLES: Record<(typeof ENTRY_KINDS)[number], ExampleObject> = {
  announcement: {
    summary: 'An announcement, with a pledge',
    value: {
      kind: 'announcement',
      occurredOn: '2024-06-13',
      title: 'Japan pledges 4.5 billion dollars for Ukraine in 2024',
      summary: 'Announced at the G7 summit in Apulia.',
      actors: ['JP', 'UA'],
      sources: [{ title: 'Japan Increases Its Support for Ukraine', url: 'https://example.org/japan-ukraine', publishedOn: '2024-08-07' }],
      tags: ['financial-aid'],
      announcer: 'JP',
      stage: 'announced',
      pledge: { amount: 4_500_000_000, currency: 'USD' },
    },
  },
  signing: {
    summary: 'A signing',
    value: {
      kind: 'signing',
      occurredOn: '2024-06-13',
      title: 'Japan and Ukraine sign a ten-year security accord',
      actors: ['JP', 'UA'],
      sources: [{ title: 'Japan Increases Its Support for Ukraine', publishedOn: '2024-08-07' }],
      parties: ['JP', 'UA'],
      instrument: 'Accord on Support for Ukraine and Cooperation',
      termYears: 10,
    },
  },
  delivery: {
    summary: 'A delivery, known to the month',
    value: {
      kind: 'delivery',
      occurredOn: '2022-03',
      title: 'Japan sends bulletproof vests and helmets to Ukraine',
      actors: ['JP', 'UA'],
      supplier: 'JP',
      recipient: 'UA',
      items: [
        { category: 'body-armour', description: 'Bulletproof vests', quantity: 1900 },
        { category: 'helmets', description: 'Helmets' },
      ],
      value: { amount: 1_000_000, currency: 'JPY' },
      channel: 'SDF transport aircraft',
    },
  },
};

export const CORRECT_EXAMPLES: Record<string, ExampleObject> = {
  signing: {
    summary: 'Set a signing\'s place',
    value: { changes: { place: 'Apulia, Italy' }, reason: 'place confirmed by a second source' },
  },
  remove: {
    summary: 'Remove an optional field (null)',
    value: { changes: { summary: null }, reason: 'the summary repeated the title' },
  },
};

export const RETRACT_EXAMPLE = { reason: 'recorded in the wrong timeline' };
