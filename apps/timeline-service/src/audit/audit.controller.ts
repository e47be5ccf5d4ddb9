import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { once } from 'node:events';
import { Requires } from '../auth/access';
import { EntryIdParam, SlugParam } from '../common/route-params';
import { AuditService } from './audit.service';
import { EventsQuery, ExportQuery } from './dto/events.query';

@Controller()
@Requires('audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get('entries/:id/history')
  async history(@Param('id', EntryIdParam) id: string) {
    return { items: await this.audit.history(id) };
  }

  @Get('events')
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
  export(@Param('slug', SlugParam) slug: string, @Query() _query: ExportQuery) {
    return this.audit.timelineJs(slug);
  }
}
