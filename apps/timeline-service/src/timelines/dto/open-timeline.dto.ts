import { IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { HasText, IsSlug } from '../../common/validators';

export class OpenTimelineDto {
  @IsString() @Length(1, 64) @IsSlug()
  slug!: string;

  @IsString() @Length(1, 200) @HasText()
  title!: string;

  @IsOptional() @IsString() @MaxLength(2000)
  description?: string;
}
