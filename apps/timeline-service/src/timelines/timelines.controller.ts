import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Requires } from '../auth/access';
import { Command, type CommandContext } from '../common/command-context';
import { SlugParam } from '../common/route-params';
import { ApiErrors, ApiJsonBody, ApiJsonResponse, ApiSlugParam } from '../openapi/decorators';
import { OPEN_TIMELINE_EXAMPLE } from '../openapi/response-schemas';
import { OpenTimelineDto } from './dto/open-timeline.dto';
import { TimelinesService } from './timelines.service';

@ApiTags('timelines')
@Controller('timelines')
export class TimelinesController {
  constructor(private readonly timelines: TimelinesService) {}

  @Post()
  @Requires('write')
  @ApiOperation({ summary: 'Open a timeline' })
  @ApiJsonBody({ dto: OpenTimelineDto, examples: { timeline: { summary: 'A new timeline', value: OPEN_TIMELINE_EXAMPLE } } })
  @ApiJsonResponse(201, 'TimelineOpened', 'Opened; the read model has applied it.')
  @ApiErrors({ 400: true, 409: 'A timeline with this slug exists (code timeline_exists).' })
  open(@Body() body: OpenTimelineDto, @Command() context: CommandContext) {
    return this.timelines.open(body.slug, body.title, body.description ?? '', context);
  }

  @Get()
  @Requires('read')
  @ApiOperation({ summary: 'List the timelines' })
  @ApiJsonResponse(200, 'TimelineList', 'Every timeline.')
  list() {
    return { items: this.timelines.list() };
  }

  @Get(':slug')
  @Requires('read')
  @ApiOperation({ summary: 'Get a timeline' })
  @ApiSlugParam()
  @ApiJsonResponse(200, 'Timeline', 'The timeline.')
  @ApiErrors({ 400: true, 404: 'No such timeline (code timeline_not_found).' })
  get(@Param('slug', SlugParam) slug: string) {
    return this.timelines.get(slug);
  }
}
