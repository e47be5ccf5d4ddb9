import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { ENTRY_KINDS, type EntryKind } from '@timeline/domain';
import { IsActorId, IsAsOf, IsOccurredOn } from '../../common/validators';

export class ListEntriesQuery {
  @IsOptional() @IsIn(ENTRY_KINDS)
  kind?: EntryKind;

  @IsOptional() @IsActorId()
  actor?: string;

  @IsOptional() @IsOccurredOn()
  from?: string;

  @IsOptional() @IsOccurredOn()
  to?: string;

  @IsOptional() @IsIn(['asc', 'desc'])
  order?: 'asc' | 'desc';

  // Query strings are text: only plain digits become a number ("1e1", "0x10", " 1" stay text and fail IsInt).
  @IsOptional() @Transform(({ value }) => (typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : value))
  @IsInt() @Min(1) @Max(500)
  limit?: number;

  @IsOptional() @IsString() @MaxLength(512)
  cursor?: string;

  @IsOptional() @IsIn(['true', 'false'])
  includeRetracted?: 'true' | 'false';

  /** A past moment: an ISO-8601 instant with its offset, or a position. */
  @IsOptional() @IsString() @IsAsOf()
  asOf?: string;
}
