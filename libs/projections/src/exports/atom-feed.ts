import { Feed } from 'feed';
import type { EntryView, TimelineView } from '../read-model/entry-view';
import { feedId, feedItem, type FeedLinks } from './feed-item';
import { escapeHtml } from './html';

/*
 * Atom 1.0 (RFC 4287), written by `feed` (jpmonette/feed): it builds the XML
 * with xml-js, so every text and attribute is escaped by a library, and it
 * splits a `]]>` inside a title or content across two CDATA sections. It
 * writes entry titles, summaries and content as type="html", so the plain
 * text we have is HTML-escaped first (a title "A <b> & C" must not become
 * markup in a reader).
 */

export const GENERATOR = 'timeline-service';

/**
 * What XML 1.0 cannot carry even escaped (control characters but tab and
 * newlines, lone surrogates, U+FFFE/U+FFFF), which the API accepts in text.
 * No markup contains them, so they are replaced in the whole document.
 */
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** A timeline's newest entries as an Atom feed, in the order given (newest first). */
export function toAtomFeed(timeline: TimelineView, entries: readonly EntryView[], links: FeedLinks): string {
  const feed = new Feed({
    id: feedId(timeline),
    title: timeline.title,
    description: timeline.description || undefined,
    updated: new Date(timeline.updatedAt),
    link: links.home,
    feed: links.atom,
    generator: GENERATOR,
    author: { name: timeline.title, link: links.home },
  });
  for (const entry of entries) {
    const item = feedItem(entry, links);
    feed.addItem({
      id: item.id,
      link: item.url,
      title: escapeHtml(item.title),
      description: item.summary === undefined ? undefined : escapeHtml(item.summary),
      content: item.html,
      date: new Date(item.updated),
      published: new Date(item.published),
      category: item.tags.map((term) => ({ term })),
    });
  }
  return feed.atom1().replace(NOT_XML, '\uFFFD');
}
