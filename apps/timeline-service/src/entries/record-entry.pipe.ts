import { Injectable, type PipeTransform } from '@nestjs/common';
import type { ClassConstructor } from 'class-transformer';
import { ENTRY_KINDS, type EntryKind } from '@timeline/domain';
import { RequestValidationError, validateInto } from '../common/request-validation';
import { RECORD_DTO_OF_KIND, type RecordEntryDto } from './dto/record-entry.dto';

/** The body's kind picks the DTO it must satisfy: announcement, signing or delivery. */
@Injectable()
export class RecordEntryPipe implements PipeTransform<unknown, RecordEntryDto> {
  transform(body: unknown): RecordEntryDto {
    const kind = (body as { kind?: unknown } | null)?.kind;
    if (typeof body === 'object' && body !== null && !Array.isArray(body) && !ENTRY_KINDS.includes(kind as EntryKind)) {
      const problem = kind === undefined ? 'kind is required' : 'kind must be one of';
      throw new RequestValidationError([{ field: 'kind', problems: [`${problem}: ${ENTRY_KINDS.join(', ')}`] }]);
    }
    // A body that is not an object fails in validateInto with "body must be a JSON object".
    const type = (RECORD_DTO_OF_KIND[kind as EntryKind] ?? RECORD_DTO_OF_KIND.announcement) as ClassConstructor<RecordEntryDto>;
    return validateInto(type, body);
  }
}
