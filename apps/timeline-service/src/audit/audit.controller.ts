import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { once } from 'node:events';
import { Requires } from '../auth/access';
import { EntryIdParam, SlugParam } from '../common/route-params';
import { ApiEntryIdParam, ApiErrors, ApiJsonResponse, ApiQueryFrom, ApiSlugParam } from '../openapi/decorators';
import { schemaRef } from '../openapi/request-schemas';
import { AuditService } from './audit.service';
import { EventsQuery, ExportQuery } from './dto/events.query';

@ApiTags('audit')
@Controller()
@Requires('audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get('entries/:id/history')
  @ApiOperation({ summary: "An entry's history", description: 'Every event of the entry, oldest first, straight from the log: who changed it, when, and why.' })
  @ApiEntryIdParam()
  @ApiJsonResponse(200, 'History', 'The events of the entry.')
  @ApiErrors({ 400: true, 404: 'No such entry (code entry_not_found).' })
  async history(@Param('id', EntryIdParam) id: string) {
    return { items: await this.audit.history(id) };
  }

  @Get('events')
  @ApiOperation({
    summary: 'The global log',
    description:
      'A page of the log after `after` (JSON), or with format=ndjson the whole log (or from `after`) as NDJSON, one event per line, streamed page by page.',
  })
  @ApiQueryFrom(EventsQuery)
  @ApiProduces('application/json', 'application/x-ndjson')
  @ApiResponse({
    status: 200,
    description: 'A page `{items, next}` (JSON), or every event as one JSON object per line (format=ndjson).',
    content: {
      'application/json': { schema: schemaRef('EventsPage') },
      'application/x-ndjson': { schema: { ...schemaRef('LogItem'), description: 'One LogItem per line.' } as never },
    },
  })
  @ApiErrors({ 400: true })
  async events(@Query() query: EventsQuery, @Res({ passthrough: true }) response: Response) {
    if (query.format !== 'ndjson') return this.audit.page(query.after, query.limit ?? 100);
    // NDJSON streams the whole log (or from `after`) a page at a time, waiting
    // for the socket to drain, so memory stays flat however long the log is.
    response.status(200).type('application/x-ndjson');
    for await (const page of this.audit.all(query.after)) {
      if (response.destroyed) return;
      const chunk = page.map((item) => JSON.stringify(item)).join('\n') + '\n';
      if (!response.write(chunk)) await once(response, 'drain');
    }
    response.end();
  }

  @Get('timelines/:slug/export')
  @ApiOperation({ summary: 'Export a timeline as TimelineJS', description: "Knight Lab TimelineJS JSON: dates at each entry's own precision, group = kind, unique_id = entryId." })
  @ApiSlugParam()
  @ApiQueryFrom(ExportQuery)
  @ApiJsonResponse(200, 'TimelineJsDocument', 'The timeline as TimelineJS JSON.')
  @ApiErrors({ 400: true, 404: 'No such timeline (code timeline_not_found).' })
  export(@Param('slug', SlugParam) slug: string, @Query() _query: ExportQuery) {
    return this.audit.timelineJs(slug);
  }
}
