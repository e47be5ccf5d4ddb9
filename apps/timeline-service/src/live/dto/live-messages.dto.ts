import { IsBoolean, IsString, Length, Matches } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { IsSlug, Optional, POSITION } from '../../common/validators';

export class SubscribeMessage {
  @IsString() @Length(1, 64) @IsSlug()
  timeline!: string;

  @JSONSchema({ description: "Receive every change after this position. Absent, start from now (the ack's position)." })
  @Optional() @IsString() @Matches(POSITION, { message: 'after must be a position given by the API, such as 00000000000000000042' })
  after?: string;

  // Its description is the one docs/asyncapi.yaml shows (generated from this class).
  @JSONSchema({
    description:
      'true: send the changes missed after `after` as `updates` messages (many updates each)\n' +
      'instead of one `update` per change. Absent or false: one `update` per change. Live\n' +
      'changes come as `update` either way.\n',
  })
  @Optional() @IsBoolean({ message: 'batch must be true or false' })
  batch?: boolean;
}

export class UnsubscribeMessage {
  @IsString() @Length(1, 64) @IsSlug()
  timeline!: string;
}

/** Live messages are small; anything larger is refused before it is even parsed into a DTO. */
export const MAX_MESSAGE_BYTES = 2048;
