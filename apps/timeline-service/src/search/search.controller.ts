import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { EntryPage } from '@timeline/contracts';
import { TIMELINE_READ_MODEL, type TimelineReadModel } from '@timeline/projections';
import { Requires } from '../auth/access';
import { filtersOf } from '../entries/dto/list-entries.query';
import { ApiErrors, ApiJsonResponse, ApiQueryFrom } from '../openapi/decorators';
import { SearchEntriesQuery } from './dto/search-entries.query';

@ApiTags('search')
@Controller('search')
export class SearchController {
  constructor(@Inject(TIMELINE_READ_MODEL) private readonly readModel: TimelineReadModel) {}

  @Get()
  @Requires('read')
  @ApiOperation({
    summary: 'Search every timeline',
    description:
      "Entries of any timeline matching `q` (title, summary, actors, sources' titles, each kind's own text: instrument, items, announcer...), " +
      'best first, ties in recording order; each says its `timeline`. A correction is searched as corrected; a retracted entry only with ' +
      'includeRetracted=true. Syntax: words (all must match, in any form: sign finds signed), "a phrase", prefix*, a OR b. ' +
      'Follow `nextCursor` for the next page (a write between pages can move an entry across it, as ranks depend on the whole index).',
  })
  @ApiQueryFrom(SearchEntriesQuery)
  @ApiJsonResponse(200, 'EntryPage', 'A page of matching entries, best first.')
  @ApiErrors({ 400: '`q` missing, too long or unreadable (a quote not closed, a lone OR, no word), or another filter invalid; `errors` names each field.' })
  search(@Query() query: SearchEntriesQuery): EntryPage {
    // One synchronous read: the page and the checkpoint describe the same moment.
    return { ...this.readModel.search({ ...filtersOf(query), q: query.q }), position: this.readModel.checkpoint() };
  }
}
