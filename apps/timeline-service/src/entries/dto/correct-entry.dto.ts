import { PartialType } from '@nestjs/mapped-types';
import { IsObject, IsString, Length } from 'class-validator';
import { HasText } from '../../common/validators';
import { AnnouncementFieldsDto, DeliveryFieldsDto, SigningFieldsDto } from './record-entry.dto';

export class CorrectEntryDto {
  /** The fields to change, checked against the entry's kind once it is loaded (see EntriesService). */
  @IsObject()
  changes!: Record<string, unknown>;

  @IsString() @Length(1, 1000) @HasText()
  reason!: string;
}

/**
 * A correction may touch any field of its kind, each validated as when
 * recording; null removes an optional field (the domain refuses null on a
 * required one). kind and entryId are not fields here, so they cannot change.
 */
export const CHANGES_DTO_OF_KIND = {
  announcement: class AnnouncementChangesDto extends PartialType(AnnouncementFieldsDto) {},
  signing: class SigningChangesDto extends PartialType(SigningFieldsDto) {},
  delivery: class DeliveryChangesDto extends PartialType(DeliveryFieldsDto) {},
} as const;
