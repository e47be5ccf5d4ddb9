import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiParam, ApiQuery, ApiResponse, type ExampleObject, type SchemaObject } from '@nestjs/swagger';
import { SLUG, UUID } from '../common/validators';
import { queryParameters, schemaRef } from './request-schemas';

/**
 * Decorators for the controllers' documentation. Request schemas come from
 * the DTOs' validators: a DTO named here is registered, and setupOpenApi
 * derives its component schema (and its nested DTOs') when it builds the
 * document. They only add metadata; they change no behaviour.
 */

type Constructor = abstract new (...args: never[]) => unknown;

/** DTOs whose schemas the document needs, registered by the decorators below. */
export const DOCUMENTED_DTOS = new Set<Constructor>();

/** A JSON body that must satisfy `dto` (or, by its discriminator, one of `oneOf`). */
export function ApiJsonBody(options: {
  dto?: Constructor;
  oneOf?: { discriminator: string; mapping: Record<string, Constructor> };
  description?: string;
  examples?: Record<string, ExampleObject>;
}) {
  let schema: SchemaObject;
  if (options.dto) {
    DOCUMENTED_DTOS.add(options.dto);
    schema = schemaRef(options.dto.name) as SchemaObject;
  } else {
    const classes = Object.values(options.oneOf!.mapping);
    classes.forEach((cls) => DOCUMENTED_DTOS.add(cls));
    schema = {
      oneOf: classes.map((cls) => schemaRef(cls.name)),
      discriminator: {
        propertyName: options.oneOf!.discriminator,
        mapping: Object.fromEntries(Object.entries(options.oneOf!.mapping).map(([value, cls]) => [value, schemaRef(cls.name).$ref])),
      },
    };
  }
  return ApiBody({ required: true, description: options.description, schema, examples: options.examples });
}

/** Each property of a query DTO as a query parameter, with the DTO's constraints. */
export function ApiQueryFrom(dto: Constructor) {
  DOCUMENTED_DTOS.add(dto); // also a component schema: the client's query types are generated from it
  return applyDecorators(
    ...queryParameters(dto).map((parameter) =>
      ApiQuery({ name: parameter.name, required: parameter.required, description: parameter.description, schema: parameter.schema as SchemaObject }),
    ),
  );
}

export const ApiSlugParam = () =>
  ApiParam({
    name: 'slug',
    description: "The timeline's slug: lowercase-kebab, at most 64 characters.",
    schema: { type: 'string', pattern: SLUG.source, maxLength: 64, example: 'japan-ukraine-support' },
  });

export const ApiEntryIdParam = () =>
  ApiParam({
    name: 'id',
    description: "The entry's id, a lowercase UUID.",
    schema: { type: 'string', pattern: UUID.source, example: '8a1c3e52-4f0b-4d7e-9c21-6b5e0f3a9d47' },
  });

const ENTITY_TAG = { type: 'string', pattern: '^"\\d{1,15}"$', example: '"0"' } as const;

/** If-Match: "<revision>": which revision the change is decided on (412 when stale). */
export const ApiIfMatch = (required: boolean) =>
  ApiHeader({
    name: 'If-Match',
    required,
    description: required
      ? 'The entry\'s ETag, a revision in double quotes like "3": the revision being corrected. Required (428 without it); 412 when the entry has changed since.'
      : 'Optional: the entry\'s ETag ("3"); when given, 412 if the entry has changed since.',
    schema: ENTITY_TAG,
  });

/** If-None-Match: answered 304 (no body) while the ETag is unchanged. */
export const ApiIfNoneMatch = (what: string) =>
  ApiHeader({
    name: 'If-None-Match',
    required: false,
    description: `The ETag of ${what} from an earlier answer: 304 Not Modified, with no body, while it is unchanged.`,
    schema: { type: 'string' },
  });

export const ETAG_HEADER = { ETag: { description: 'The entry\'s revision in double quotes ("3"): send it back as If-Match.', schema: ENTITY_TAG } };

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input: a field, a query parameter, a path parameter or a header; `errors` names each field at fault. Nothing was appended.',
  404: 'Not found.',
  409: 'Conflict.',
  412: 'Stale: the entry has changed since the revision in If-Match. Load it again (ETag) and decide again.',
  428: 'If-Match is required to correct an entry.',
};

/** Error answers, all of the one ErrorBody shape; a description per status overrides the default. */
export function ApiErrors(errors: Record<number, string | true>) {
  return applyDecorators(
    ...Object.entries(errors).map(([status, text]) =>
      ApiResponse({
        status: Number(status),
        description: text === true ? (ERROR_DESCRIPTIONS[Number(status)] ?? 'Error.') : text,
        schema: schemaRef('ErrorBody') as SchemaObject,
      }),
    ),
  );
}

/** An answer that is not JSON (an HTML page, a script, Prometheus text): its media types, each a string. */
export function ApiTextResponse(status: number, description: string, mediaTypes: string[]) {
  return ApiResponse({ status, description, content: Object.fromEntries(mediaTypes.map((type) => [type, { schema: { type: 'string' } }])) });
}

/** A JSON answer whose schema is one of RESPONSE_SCHEMAS. */
export function ApiJsonResponse(status: number, schemaName: string, description: string, headers?: Record<string, { description: string; schema: object }>) {
  return ApiResponse({ status, description, schema: schemaRef(schemaName) as SchemaObject, headers: headers as never });
}

/**
 * A feed's answers: the feed in its media type with ETag, Last-Modified and
 * Cache-Control; 304 to a conditional GET while it is unchanged; 400 and 404.
 */
export function ApiFeedResponses(mediaType: string, description: string) {
  return applyDecorators(
    ApiIfNoneMatch('this feed'),
    ApiHeader({
      name: 'If-Modified-Since',
      required: false,
      description: 'The Last-Modified of an earlier answer: 304 Not Modified, with no body, while the feed is unchanged (to the second). If-None-Match is exact and wins when both are sent.',
      schema: { type: 'string' },
    }),
    ApiResponse({
      status: 200,
      description,
      content: { [mediaType]: { schema: { type: 'string' } } },
      headers: {
        ETag: { description: 'A weak tag of the bytes: send it as If-None-Match.', schema: { type: 'string' } },
        'Last-Modified': { description: "The timeline's last change (HTTP date): send it as If-Modified-Since.", schema: { type: 'string' } },
        'Cache-Control': { description: 'public (private when reads need a key), max-age=60.', schema: { type: 'string' } },
      } as never,
    }),
    ApiResponse({ status: 304, description: 'Not Modified: If-None-Match or If-Modified-Since matched; no body.' }),
    ApiErrors({ 400: true, 404: 'No such timeline (code timeline_not_found).' }),
  );
}
