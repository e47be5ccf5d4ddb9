import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { POSITION } from '../../common/validators';

const digitsToNumber = ({ value }: { value: unknown }) => (typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : value);

export class EventsQuery {
  @IsOptional() @IsString() @Matches(POSITION, { message: 'after must be a position given by the API, such as 00000000000000000042' })
  after?: string;

  @IsOptional() @Transform(digitsToNumber) @IsInt() @Min(1) @Max(1000)
  limit?: number;

  @IsOptional() @IsIn(['json', 'ndjson'])
  format?: 'json' | 'ndjson';
}

export class ExportQuery {
  @IsIn(['timelinejs'])
  format!: 'timelinejs';
}
