import { Type } from 'class-transformer';
import {
  IsInt,
  IsNumber,
  IsPositive,
  IsString,
  IsUrl,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { CURRENCY, HasText, Optional, IsOccurredOn, KEBAB } from '../../common/validators';

export class MoneyDto {
  @IsNumber({ allowNaN: false, allowInfinity: false }) @IsPositive() @Max(1e15)
  amount!: number;

  @IsString() @Matches(CURRENCY, { message: '$property must be an ISO 4217 code such as USD, JPY or EUR' })
  currency!: string;
}

export class SourceDto {
  @IsString() @Length(1, 300) @HasText()
  title!: string;

  @Optional() @IsString() @Length(1, 200)
  publisher?: string;

  @Optional() @IsString() @MaxLength(2000) @IsUrl({ protocols: ['http', 'https'], require_protocol: true })
  url?: string;

  @Optional() @IsOccurredOn()
  publishedOn?: string;
}

export class DeliveryItemDto {
  @IsString() @Length(1, 40) @Matches(KEBAB, { message: '$property must be lowercase-kebab, like body-armour' })
  category!: string;

  @IsString() @Length(1, 500) @HasText()
  description!: string;

  @Optional() @IsInt() @Min(1) @Max(1e9)
  quantity?: number;
}
