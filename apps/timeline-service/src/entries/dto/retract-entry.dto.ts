import { IsString, Length } from 'class-validator';
import { HasText } from '../../common/validators';

export class RetractEntryDto {
  @IsString() @Length(1, 1000) @HasText()
  reason!: string;
}
