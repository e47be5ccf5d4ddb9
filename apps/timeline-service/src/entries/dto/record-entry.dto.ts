import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { ANNOUNCEMENT_STAGES, type AnnouncementStage } from '@timeline/domain';
import { HasText, Optional, IsActorId, IsLowercaseUuid, IsOccurredOn, KEBAB } from '../../common/validators';
import { DeliveryItemDto, MoneyDto, SourceDto } from './entry-parts.dto';

/** The fields every kind of entry has. Shape only; rules across fields live in the domain. */
export class EntryFieldsDto {
  @IsOccurredOn()
  occurredOn!: string;

  @IsString() @Length(1, 200) @HasText()
  title!: string;

  @Optional() @IsString() @MaxLength(4000)
  summary?: string;

  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(20) @ArrayUnique() @IsActorId({ each: true })
  actors!: string[];

  @Optional() @IsArray() @ArrayMaxSize(20) @IsObject({ each: true }) @ValidateNested({ each: true }) @Type(() => SourceDto)
  sources?: SourceDto[];

  @Optional() @IsArray() @ArrayMaxSize(20) @ArrayUnique()
  @IsString({ each: true }) @Length(1, 40, { each: true })
  @Matches(KEBAB, { each: true, message: 'each of $property must be lowercase-kebab, like security-accord' })
  tags?: string[];

  @Optional() @IsArray() @ArrayMaxSize(20) @ArrayUnique() @IsLowercaseUuid({ each: true })
  relatedTo?: string[];
}

export class AnnouncementFieldsDto extends EntryFieldsDto {
  @IsActorId()
  announcer!: string;

  @IsIn(ANNOUNCEMENT_STAGES)
  stage!: AnnouncementStage;

  @Optional() @IsObject() @ValidateNested() @Type(() => MoneyDto)
  pledge?: MoneyDto;
}

export class SigningFieldsDto extends EntryFieldsDto {
  @IsArray() @ArrayMinSize(2) @ArrayMaxSize(20) @ArrayUnique() @IsActorId({ each: true })
  parties!: string[];

  @IsString() @Length(1, 200) @HasText()
  instrument!: string;

  @Optional() @IsString() @Length(1, 200)
  place?: string;

  @Optional() @IsInt() @Min(1) @Max(100)
  termYears?: number;
}

export class DeliveryFieldsDto extends EntryFieldsDto {
  @IsActorId()
  supplier!: string;

  @IsActorId()
  recipient!: string;

  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(50) @IsObject({ each: true }) @ValidateNested({ each: true }) @Type(() => DeliveryItemDto)
  items!: DeliveryItemDto[];

  @Optional() @IsObject() @ValidateNested() @Type(() => MoneyDto)
  value?: MoneyDto;

  @Optional() @IsString() @Length(1, 64) @HasText()
  channel?: string;
}

/** A kind's fields plus what POST /timelines/:slug/entries adds: the kind and an optional client-chosen id. */
export class RecordAnnouncementDto extends AnnouncementFieldsDto {
  @IsIn(['announcement']) kind!: 'announcement';
  /** Client-chosen id: makes retries safe. */
  @Optional() @IsLowercaseUuid() entryId?: string;
}
export class RecordSigningDto extends SigningFieldsDto {
  @IsIn(['signing']) kind!: 'signing';
  /** Client-chosen id: makes retries safe. */
  @Optional() @IsLowercaseUuid() entryId?: string;
}
export class RecordDeliveryDto extends DeliveryFieldsDto {
  @IsIn(['delivery']) kind!: 'delivery';
  /** Client-chosen id: makes retries safe. */
  @Optional() @IsLowercaseUuid() entryId?: string;
}

export type RecordEntryDto = RecordAnnouncementDto | RecordSigningDto | RecordDeliveryDto;

export const RECORD_DTO_OF_KIND = {
  announcement: RecordAnnouncementDto,
  signing: RecordSigningDto,
  delivery: RecordDeliveryDto,
} as const;

export const FIELDS_DTO_OF_KIND = {
  announcement: AnnouncementFieldsDto,
  signing: SigningFieldsDto,
  delivery: DeliveryFieldsDto,
} as const;
