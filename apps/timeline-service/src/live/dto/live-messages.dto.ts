import { IsBoolean, IsString, Length, Matches } from 'class-validator';
import { IsSlug, Optional, POSITION } from '../../common/validators';

export class SubscribeMessage {
  @IsString() @Length(1, 64) @IsSlug()
  timeline!: string;

  @Optional() @IsString() @Matches(POSITION, { message: 'after must be a position given by the API, such as 00000000000000000042' })
  after?: string;

  /**
   * true: send the missed changes (the replay after `after`) as `updates`
   * messages holding many updates each, instead of one `update` per change.
   * Live changes still come as `update`.
   */
  @Optional() @IsBoolean({ message: 'batch must be true or false' })
  batch?: boolean;
}

export class UnsubscribeMessage {
  @IsString() @Length(1, 64) @IsSlug()
  timeline!: string;
}

/** Live messages are small; anything larger is refused before it is even parsed into a DTO. */
export const MAX_MESSAGE_BYTES = 2048;
