import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { Requires } from '../auth/access';
import { Command, type CommandContext } from '../common/command-context';
import { SlugParam } from '../common/route-params';
import { OpenTimelineDto } from './dto/open-timeline.dto';
import { TimelinesService } from './timelines.service';

@Controller('timelines')
export class TimelinesController {
  constructor(private readonly timelines: TimelinesService) {}

  @Post()
  @Requires('write')
  open(@Body() body: OpenTimelineDto, @Command() context: CommandContext) {
    return this.timelines.open(body.slug, body.title, body.description ?? '', context);
  }

  @Get()
  @Requires('read')
  list() {
    return { items: this.timelines.list() };
  }

  @Get(':slug')
  @Requires('read')
  get(@Param('slug', SlugParam) slug: string) {
    return this.timelines.get(slug);
  }
}
