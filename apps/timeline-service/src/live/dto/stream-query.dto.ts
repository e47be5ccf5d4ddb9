import { IsString, Matches } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { Optional, POSITION } from '../../common/validators';

/** GET /timelines/:slug/stream's query. */
export class StreamQuery {
  @JSONSchema({
    description:
      'Receive every change after this position (e.g. the `position` of GET /timelines/:slug/entries). ' +
      'A Last-Event-ID header, which an EventSource sends when it reconnects, wins over it. Absent both: from now.',
  })
  @Optional() @IsString() @Matches(POSITION, { message: 'after must be a position given by the API, such as 00000000000000000042' })
  after?: string;
}
