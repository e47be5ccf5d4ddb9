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
  return feed.atom1();
}
