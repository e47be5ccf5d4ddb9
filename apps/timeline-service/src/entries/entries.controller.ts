import { Body, Controller, Get, Headers, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Requires } from '../auth/access';
import { Command, type CommandContext } from '../common/command-context';
import { Tagged } from '../common/etag.interceptor';
import { parseIfMatch } from '../common/if-match';
import { EntryIdParam, SlugParam } from '../common/route-params';
import {
  ApiEntryIdParam,
  ApiErrors,
  ApiIfMatch,
  ApiIfNoneMatch,
  ApiJsonBody,
  ApiJsonResponse,
  ApiQueryFrom,
  ApiSlugParam,
  ETAG_HEADER,
} from '../openapi/decorators';
import { CORRECT_EXAMPLES, RECORD_EXAMPLES, RETRACT_EXAMPLE } from '../openapi/response-schemas';
import { CorrectEntryDto } from './dto/correct-entry.dto';
import { filtersOf, ListEntriesQuery } from './dto/list-entries.query';
import { RECORD_DTO_OF_KIND, type RecordEntryDto } from './dto/record-entry.dto';
import { RetractEntryDto } from './dto/retract-entry.dto';
import { EntriesService } from './entries.service';
import { RecordEntryPipe } from './record-entry.pipe';

@ApiTags('entries')
@Controller()
export class EntriesController {
  constructor(private readonly entries: EntriesService) {}

  @Post('timelines/:slug/entries')
  @Requires('write')
  @ApiOperation({
    summary: 'Record an entry',
    description:
      'The body\'s `kind` (announcement, signing or delivery) selects the schema it must satisfy. ' +
      'With a client-chosen `entryId`, sending the same body again is a safe retry: the same answer, nothing recorded; ' +
      'a different body under the same entryId is a 409.',
  })
  @ApiSlugParam()
  @ApiJsonBody({ oneOf: { discriminator: 'kind', mapping: RECORD_DTO_OF_KIND }, examples: RECORD_EXAMPLES })
  @ApiJsonResponse(201, 'EntryWritten', 'Recorded (revision 0); the read model has applied it.')
  @ApiErrors({
    400: 'Invalid input (including a relatedTo id that names no entry); `errors` names each field at fault. Nothing was appended.',
    404: 'No such timeline (code timeline_not_found).',
    409: 'The entryId is taken by a different entry (entry_id_conflict).',
  })
  record(@Param('slug', SlugParam) slug: string, @Body(RecordEntryPipe) body: RecordEntryDto, @Command() context: CommandContext) {
    return this.entries.record(slug, body, context);
  }

  @Get('timelines/:slug/entries')
  // The timeline as it stood in the past is an auditor's question.
  @Requires((request) => (request.query.asOf !== undefined ? 'audit' : 'read'))
  @ApiOperation({
    summary: "List a timeline's entries",
    description:
      'Ordered by occurredOn: a month-precision date sorts before the days of that month (2024-06 < 2024-06-01), entries of the same date ' +
      'in the order they were recorded. `from` and `to` are inclusive at any precision. Follow `nextCursor` for the next page. ' +
      'With `asOf` (auditor role): the timeline exactly as it stood then, same filters and shape. ' +
      'With `q`: only the entries matching it (title, summary, actors, sources\' titles, each kind\'s own text), best first, ties in recording order, ' +
      'the same filters, paged by `nextCursor`; `order` does not apply and `asOf` cannot be combined with it. ' +
      'Syntax: words (all must match, in any form: sign finds signed), "a phrase", prefix*, a OR b; a quote not closed or a lone OR is a 400 naming q.',
  })
  @ApiSlugParam()
  @ApiQueryFrom(ListEntriesQuery)
  @ApiIfNoneMatch('this page')
  @ApiJsonResponse(200, 'EntryPage', 'A page of entries.', {
    ETag: { description: 'Identifies this answer: send it as If-None-Match to get a 304 while nothing changed.', schema: { type: 'string' } },
  })
  @ApiResponse({ status: 304, description: 'Not Modified: If-None-Match matched the ETag; no body.' })
  @ApiErrors({ 400: true, 404: 'No such timeline (code timeline_not_found).' })
  list(@Param('slug', SlugParam) slug: string, @Query() query: ListEntriesQuery) {
    const page = this.entries.listSerialized({ ...filtersOf(query), timeline: slug, order: query.order ?? 'asc', q: query.q }, query.asOf);
    return Tagged.json(page.body, page.etag);
  }

  @Get('entries/:id')
  @Requires('read')
  @ApiOperation({ summary: 'Get an entry', description: 'Retracted entries too, with status retracted and the retraction.' })
  @ApiEntryIdParam()
  @ApiJsonResponse(200, 'Entry', 'The entry.', ETAG_HEADER)
  @ApiErrors({ 400: true, 404: 'No such entry (code entry_not_found).' })
  get(@Param('id', EntryIdParam) id: string) {
    return Tagged.byRevision(this.entries.get(id));
  }

  @Patch('entries/:id')
  @Requires('write')
  @ApiOperation({
    summary: 'Correct an entry',
    description:
      'A correction is a new event: nothing is rewritten. `changes` is validated against the entry\'s kind, ' +
      'field by field as when recording; null removes an optional field.',
  })
  @ApiEntryIdParam()
  @ApiIfMatch(true)
  @ApiJsonBody({ dto: CorrectEntryDto, examples: CORRECT_EXAMPLES })
  @ApiJsonResponse(200, 'EntryWritten', 'Corrected; the new revision and its ETag.', ETAG_HEADER)
  @ApiErrors({
    400: true,
    404: 'No such entry (code entry_not_found).',
    409: 'The entry is retracted (code entry_retracted).',
    412: true,
    428: true,
  })
  async correct(
    @Param('id', EntryIdParam) id: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Body() body: CorrectEntryDto,
    @Command() context: CommandContext,
  ) {
    return Tagged.byRevision(await this.entries.correct(id, parseIfMatch(ifMatch, true), body.changes, body.reason, context));
  }

  @Post('entries/:id/retraction')
  @Requires('write')
  @HttpCode(200)
  @ApiOperation({ summary: 'Retract an entry', description: 'A retraction is a new event: the entry stays readable, with status retracted.' })
  @ApiEntryIdParam()
  @ApiIfMatch(false)
  @ApiJsonBody({ dto: RetractEntryDto, examples: { retraction: { summary: 'A reason', value: RETRACT_EXAMPLE } } })
  @ApiJsonResponse(200, 'EntryWritten', 'Retracted; the new revision and its ETag.', ETAG_HEADER)
  @ApiErrors({
    400: true,
    404: 'No such entry (code entry_not_found).',
    409: 'Already retracted (code entry_retracted).',
    412: true,
  })
  async retract(
    @Param('id', EntryIdParam) id: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Body() body: RetractEntryDto,
    @Command() context: CommandContext,
  ) {
    return Tagged.byRevision(await this.entries.retract(id, parseIfMatch(ifMatch, false), body.reason, context));
  }
}
