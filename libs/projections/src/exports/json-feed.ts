import type { EntryView, TimelineView } from '../read-model/entry-view';
import { GENERATOR } from './atom-feed';
import { feedItem, type FeedLinks } from './feed-item';

/*
 * JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/), written by hand: it
 * is a plain JSON object, and `feed` (which writes our Atom) only writes JSON
 * Feed 1.0 (its version URL, a single `author` instead of 1.1's `authors`).
 * JSON.stringify does all the escaping there is.
 */

export interface JsonFeed {
  version: 'https://jsonfeed.org/version/1.1';
  title: string;
  home_page_url: string;
  feed_url: string;
  description?: string;
  authors: Array<{ name: string; url?: string }>;
  items: JsonFeedItem[];
  /** Our extension (JSON Feed allows keys starting with `_`): who wrote the feed. */
  _timeline: { about: string; generator: string; updated: string };
}

export interface JsonFeedItem {
  id: string;
  url: string;
  title: string;
  summary?: string;
  content_html: string;
  content_text: string;
  date_published: string;
  date_modified: string;
  tags: string[];
  /** What a program following the feed needs without parsing the content. */
  _timeline: { kind: EntryView['kind']; status: EntryView['status']; revision: number; occurredOn: string; retractionReason?: string };
}

/** A timeline's newest entries as a JSON Feed, in the order given (newest first). */
export function toJsonFeed(timeline: TimelineView, entries: readonly EntryView[], links: FeedLinks): JsonFeed {
  return {
    version: 'https://jsonfeed.org/version/1.1',
    title: timeline.title,
    home_page_url: links.home,
    feed_url: links.json,
    ...(timeline.description ? { description: timeline.description } : {}),
    authors: [{ name: timeline.title, url: links.home }],
    items: entries.map((entry) => {
      const item = feedItem(entry, links);
      return {
        id: item.id,
        url: item.url,
        title: item.title,
        ...(item.summary === undefined ? {} : { summary: item.summary }),
        content_html: item.html,
        content_text: item.text,
        date_published: item.published,
        date_modified: item.updated,
        tags: item.tags,
        _timeline: {
          kind: entry.kind,
          status: entry.status,
          revision: entry.revision,
          occurredOn: entry.occurredOn,
          ...(entry.retraction ? { retractionReason: entry.retraction.reason } : {}),
        },
      };
    }),
    _timeline: { about: links.home, generator: GENERATOR, updated: timeline.updatedAt },
  };
}
