import { Controller, Get, Headers, Inject, Param, Query, Req, Res } from '@nestjs/common';
import { InjectThrottlerStorage, type ThrottlerStorage } from '@nestjs/throttler';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Position } from '@timeline/event-store';
import type { Response } from 'express';
import { Requires, type AuthenticatedRequest } from '../auth/access';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.module';
import { InvalidHeaderError } from '../common/http-errors';
import { SlugParam } from '../common/route-params';
import { POSITION } from '../common/validators';
import { ApiErrors, ApiQueryFrom, ApiSlugParam, ApiTextResponse } from '../openapi/decorators';
import { StreamQuery } from './dto/stream-query.dto';
import { SseStreams } from './sse-streams';
import { countSubscribe } from './subscribe-limit';

@ApiTags('live')
@Controller()
export class SseController {
  constructor(
    private readonly streams: SseStreams,
    @InjectThrottlerStorage() private readonly throttle: ThrottlerStorage,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('timelines/:slug/stream')
  @Requires('read')
  @ApiOperation({
    summary: "Follow a timeline's changes as Server-Sent Events",
    description:
      'Each change is one message: `id` its position, `event` its type (entry.recorded, entry.corrected, entry.retracted), ' +
      '`data` the JSON of the live feed\'s `update` {timeline, position, type, entry}. After `Last-Event-ID` (or `after`): ' +
      'every change after that position exactly once, in order, then live. `event: resync` {timeline, reason} ends the stream ' +
      'when it cannot continue: `resync_required` (more missed than LIVE_MAX_REPLAY: reload the timeline, then follow it after ' +
      'the snapshot\'s position) or `slow_consumer` (the reader fell LIVE_MAX_QUEUED messages behind: reconnect with Last-Event-ID). ' +
      '`event: shutdown` ends it when the server stops (reconnect). Comment lines (`: heartbeat`) every SSE_HEARTBEAT_MS.',
  })
  @ApiSlugParam()
  @ApiQueryFrom(StreamQuery)
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'The `id` of the last message received (an EventSource sends it when it reconnects): resume after it. Wins over `after`.',
    schema: { type: 'string', pattern: POSITION.source, example: '00000000000000000042' },
  })
  @ApiTextResponse(200, 'The event stream; it stays open.', ['text/event-stream'])
  @ApiErrors({
    400: 'A malformed `after` or Last-Event-ID; `errors` names it.',
    401: 'Reads are not public (PUBLIC_READS=false) and no bearer token was sent, or the token is not a valid API key.',
    404: 'No such timeline (code timeline_not_found).',
    429: 'More than RATE_LIMIT_SUBSCRIBES_PER_MINUTE streams opened and socket subscribes by this key or address (code too_many_requests).',
  })
  async stream(
    @Param('slug', SlugParam) slug: string,
    @Query() query: StreamQuery,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() request: AuthenticatedRequest,
    @Res() response: Response,
  ): Promise<void> {
    const after = resumeFrom(lastEventId, query.after);
    // Opening a stream is a subscribe: the same budget as the socket's.
    await countSubscribe(this.throttle, request.principal?.name ?? request.ip ?? 'unknown', this.config.rateLimitSubscribesPerMinute);
    this.streams.start(slug, after, response);
  }
}

/**
 * Where a stream resumes. Last-Event-ID wins: an EventSource reconnects to
 * the same URL (its `after` included) and adds the header, which is then the
 * later of the two. An empty header is no header (an EventSource may send one).
 */
function resumeFrom(lastEventId: string | undefined, after: string | undefined): Position | undefined {
  if (lastEventId === undefined || lastEventId === '') return after;
  if (!POSITION.test(lastEventId)) throw new InvalidHeaderError('Last-Event-ID', 'must be the id of a message of this stream, a position such as 00000000000000000042');
  return lastEventId;
}
