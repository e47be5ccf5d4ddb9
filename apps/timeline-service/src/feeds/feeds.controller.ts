import { Controller, Get, Inject, Param, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { TimelineNotFoundError } from '@timeline/domain';
import { TIMELINE_READ_MODEL, toAtomFeed, toJsonFeed, type EntryView, type FeedLinks, type TimelineReadModel, type TimelineView } from '@timeline/projections';
import type { Request } from 'express';
import { Requires } from '../auth/access';
import { Tagged } from '../common/etag.interceptor';
import { SlugParam } from '../common/route-params';
import { PageCache } from '../entries/page-cache';
import { APP_CONFIG } from '../config/app-config.module';
import type { AppConfig } from '../config/app-config';
import { ApiFeedResponses, ApiSlugParam } from '../openapi/decorators';

/** How many entries a feed carries: the newest, as feed readers only look at the top. */
export const FEED_MAX_ENTRIES = 100;

export const ATOM_TYPE = 'application/atom+xml';
export const JSON_FEED_TYPE = 'application/feed+json';

/**
 * A minute in any cache, then revalidated (a 304 when nothing changed): feed
 * readers poll every few minutes, often many of them behind one proxy.
 * `private` when reads need a key, so no shared cache serves one reader's
 * answer to another.
 */
const cacheControl = (publicReads: boolean): string => `${publicReads ? 'public' : 'private'}, max-age=60`;

const FEED_DESCRIPTION =
  `The newest ${FEED_MAX_ENTRIES} entries by the time they were recorded, newest first, one item per entry: its id urn:uuid:<entryId>, ` +
  'its URL the live page at the entry (/timelines/:slug/live?entry=<entryId>#entry-<entryId>), published = recordedAt, updated = its last change. A corrected entry says so and why; a retracted one ' +
  'stays, its title starting "[Retracted] ", tagged retracted, with the reason. Links are absolute, from PUBLIC_BASE_URL or else the request\'s Host. ' +
  'Conditional GET: If-None-Match (ETag) or If-Modified-Since (Last-Modified) answer 304 while the feed is unchanged.';

/** A timeline's newest entries as Atom and JSON Feed: the builders are in @timeline/projections (exports/). */
@ApiTags('feeds')
@Controller('timelines/:slug')
export class FeedsController {
  /**
   * Each feed rendered once per read-model checkpoint, like entry pages: readers
   * poll far more often than editors write, and a 304 still needs the ETag of
   * the bytes. A feed is up to ~150 KB: at most 200 are kept.
   */
  private readonly feeds = new PageCache<string>(200, (text) => text);

  constructor(
    @Inject(TIMELINE_READ_MODEL) private readonly readModel: TimelineReadModel,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('feed.atom')
  @Requires('read')
  @ApiOperation({ summary: "A timeline's Atom feed", description: FEED_DESCRIPTION })
  @ApiSlugParam()
  @ApiFeedResponses(ATOM_TYPE, 'An Atom 1.0 feed (RFC 4287).')
  atom(@Param('slug', SlugParam) slug: string, @Req() request: Request) {
    return this.answer(slug, request, ATOM_TYPE, toAtomFeed);
  }

  @Get('feed.json')
  @Requires('read')
  @ApiOperation({ summary: "A timeline's JSON Feed", description: FEED_DESCRIPTION })
  @ApiSlugParam()
  @ApiFeedResponses(JSON_FEED_TYPE, 'A JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/).')
  json(@Param('slug', SlugParam) slug: string, @Req() request: Request) {
    return this.answer(slug, request, JSON_FEED_TYPE, (timeline, entries, links) => JSON.stringify(toJsonFeed(timeline, entries, links)));
  }

  private answer(
    slug: string,
    request: Request,
    contentType: string,
    render: (timeline: TimelineView, entries: EntryView[], links: FeedLinks) => string,
  ): Tagged<string> {
    const checkpoint = this.readModel.checkpoint();
    const timeline = this.readModel.timeline(slug);
    if (!timeline) throw new TimelineNotFoundError(slug);
    const links = this.links(slug, request);
    // The links are part of the bytes: without PUBLIC_BASE_URL, each Host has its own copy.
    const feed = this.feeds.get(JSON.stringify([contentType, slug, links.home]), checkpoint, () =>
      render(timeline, this.readModel.latestEntries(slug, FEED_MAX_ENTRIES), links),
    );
    // The timeline's updatedAt moves with every change to it or its entries, so it is the feed's Last-Modified.
    return Tagged.document(feed, contentType, {
      lastModified: timeline.updatedAt,
      cacheControl: cacheControl(this.config.publicReads),
    });
  }

  /** Absolute, from PUBLIC_BASE_URL, or else from the request's own scheme and Host. */
  private links(slug: string, request: Request): FeedLinks {
    const base = this.config.publicBaseUrl ?? `${request.protocol}://${request.get('host')}`;
    const timeline = `${base}/timelines/${slug}`;
    return {
      home: `${timeline}/live`,
      atom: `${timeline}/feed.atom`,
      json: `${timeline}/feed.json`,
      // A query of its own, not only the fragment: some readers drop fragments, and would see one URL for every item.
      entry: (entryId) => `${timeline}/live?entry=${entryId}#entry-${entryId}`,
    };
  }
}
