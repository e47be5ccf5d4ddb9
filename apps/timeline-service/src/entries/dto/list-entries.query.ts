import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { ENTRY_KINDS, type EntryKind } from '@timeline/domain';
import type { SearchQuery } from '@timeline/projections';
import { IsActorId, IsAsOf, IsOccurredOn } from '../../common/validators';

/** Longer than any search a reader types; the read model bounds the terms too (MAX_SEARCH_TERMS). */
export const MAX_Q_LENGTH = 200;

/** Words to search for: `q` on a listing and on /search (its syntax: toFtsQuery in @timeline/projections). */
export const SearchText = () =>
  applyDecorators(
    IsString(),
    MinLength(1),
    MaxLength(MAX_Q_LENGTH),
    JSONSchema({
      description:
        'Words to find in the title, summary, actors, sources\' titles and the kind\'s own text (all must match, in any form: sign finds signed); ' +
        '"a phrase"; a prefix*; a OR b. Anything else is text. A quote not closed, an OR with nothing on one side or no word at all is a 400 naming q.',
      example: 'frigate Mogami',
    }),
  );

/** The filters and paging a listing of entries and a search share. */
export class EntryFiltersQuery {
  @IsOptional() @IsIn(ENTRY_KINDS)
  kind?: EntryKind;

  @IsOptional() @IsActorId()
  actor?: string;

  @IsOptional() @IsOccurredOn()
  from?: string;

  @IsOptional() @IsOccurredOn()
  to?: string;

  // Query strings are text: only plain digits become a number ("1e1", "0x10", " 1" stay text and fail IsInt).
  @IsOptional() @Transform(({ value }) => (typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : value))
  @IsInt() @Min(1) @Max(500)
  limit?: number;

  @IsOptional() @IsString() @MaxLength(512)
  cursor?: string;

  @IsOptional() @IsIn(['true', 'false'])
  includeRetracted?: 'true' | 'false';
}

export class ListEntriesQuery extends EntryFiltersQuery {
  @IsOptional() @IsIn(['asc', 'desc'])
  order?: 'asc' | 'desc';

  /** A past moment: an ISO-8601 instant with its offset, or a position. */
  @IsOptional() @IsString() @IsAsOf()
  asOf?: string;

  /** Only the entries matching these words, best first (`order` then does not apply). */
  @IsOptional() @SearchText()
  q?: string;
}

/** The read model's filters, with the defaults a listing and a search share. */
export function filtersOf(query: EntryFiltersQuery): Omit<SearchQuery, 'q'> {
  return {
    kind: query.kind,
    actor: query.actor,
    from: query.from,
    to: query.to,
    limit: query.limit ?? 50,
    cursor: query.cursor,
    includeRetracted: query.includeRetracted === 'true',
  };
}
