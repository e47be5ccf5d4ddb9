import { Body, Controller, Get, Headers, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Requires } from '../auth/access';
import { Command, type CommandContext } from '../common/command-context';
import { etagOf, parseIfMatch } from '../common/if-match';
import { EntryIdParam, SlugParam } from '../common/route-params';
import { CorrectEntryDto } from './dto/correct-entry.dto';
import { ListEntriesQuery } from './dto/list-entries.query';
import type { RecordEntryDto } from './dto/record-entry.dto';
import { RetractEntryDto } from './dto/retract-entry.dto';
import { EntriesService } from './entries.service';
import { RecordEntryPipe } from './record-entry.pipe';

@Controller()
export class EntriesController {
  constructor(private readonly entries: EntriesService) {}

  @Post('timelines/:slug/entries')
  @Requires('write')
  record(@Param('slug', SlugParam) slug: string, @Body(RecordEntryPipe) body: RecordEntryDto, @Command() context: CommandContext) {
    return this.entries.record(slug, body, context);
  }

  @Get('timelines/:slug/entries')
  // The timeline as it stood in the past is an auditor's question.
  @Requires((request) => (request.query.asOf !== undefined ? 'audit' : 'read'))
  list(@Param('slug', SlugParam) slug: string, @Query() query: ListEntriesQuery, @Res({ passthrough: true }) response: Response) {
    const page = this.entries.listSerialized({
      timeline: slug,
      kind: query.kind,
      actor: query.actor,
      from: query.from,
      to: query.to,
      order: query.order ?? 'asc',
      limit: query.limit ?? 50,
      cursor: query.cursor,
      includeRetracted: query.includeRetracted === 'true',
    }, query.asOf);
    // Express answers 304 itself when If-None-Match matches this ETag.
    response.setHeader('ETag', page.etag);
    response.type('application/json');
    return page.body;
  }

  @Get('entries/:id')
  @Requires('read')
  get(@Param('id', EntryIdParam) id: string, @Res({ passthrough: true }) response: Response) {
    const entry = this.entries.get(id);
    response.setHeader('ETag', etagOf(entry.revision));
    return entry;
  }

  @Patch('entries/:id')
  @Requires('write')
  async correct(
    @Param('id', EntryIdParam) id: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Body() body: CorrectEntryDto,
    @Command() context: CommandContext,
    @Res({ passthrough: true }) response: Response,
  ) {
    const written = await this.entries.correct(id, parseIfMatch(ifMatch, true), body.changes, body.reason, context);
    response.setHeader('ETag', etagOf(written.revision));
    return written;
  }

  @Post('entries/:id/retraction')
  @Requires('write')
  @HttpCode(200)
  async retract(
    @Param('id', EntryIdParam) id: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Body() body: RetractEntryDto,
    @Command() context: CommandContext,
    @Res({ passthrough: true }) response: Response,
  ) {
    const written = await this.entries.retract(id, parseIfMatch(ifMatch, false), body.reason, context);
    response.setHeader('ETag', etagOf(written.revision));
    return written;
  }
}
