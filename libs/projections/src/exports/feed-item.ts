import { v5 as uuidV5 } from 'uuid';
import type { EntryView, TimelineView } from '../read-model/entry-view';
import { escapeHtml } from './html';

/*
 * What a feed says about an entry, once, for both formats (atom-feed.ts and
 * json-feed.ts only put it in their places). Text is kept as text here and
 * escaped by the format that writes it: HTML for content, XML by the Atom
 * library, JSON by JSON.stringify.
 */

/** The absolute URLs a feed links to; the service derives them from its public base URL. */
export interface FeedLinks {
  /** The timeline's live page: the feed's home page. */
  home: string;
  atom: string;
  json: string;
  /** An entry's own URL, one per entry: the live page at the entry's anchor. */
  entry(entryId: string): string;
}

export interface FeedItem {
  /** `urn:uuid:<entryId>`: the same whatever host served the feed, so readers never see an entry twice. */
  id: string;
  url: string;
  /** Plain text; a retracted entry's starts with RETRACTED_PREFIX. */
  title: string;
  /** The entry's summary, plain text. */
  summary?: string;
  /** The whole item as HTML: the retraction or corrections first, then summary, details and sources. */
  html: string;
  /** The same as plain text. */
  text: string;
  /** recordedAt. */
  published: string;
  /** The entry's last change. */
  updated: string;
  /** The kind, `corrected` and `retracted` where they apply, then the entry's tags. */
  tags: string[];
}

export const RETRACTED_PREFIX = '[Retracted] ';

/**
 * A feed's `id` (Atom requires one, and it must never change): a name-based
 * UUID of the slug, so it does not depend on the host or scheme the feed was
 * fetched through either.
 */
export function feedId(timeline: TimelineView): string {
  return `urn:uuid:${uuidV5(`timeline:${timeline.slug}`, FEED_NAMESPACE)}`;
}

/** A fixed namespace for feedId's UUIDs (random once; changing it would change every feed's id). */
const FEED_NAMESPACE = '6f1d8e4a-3b2c-4f5e-9a7d-1c0b2e3f4a5b';

export function feedItem(entry: EntryView, links: FeedLinks): FeedItem {
  const blocks = contentOf(entry);
  const retracted = entry.status === 'retracted';
  return {
    id: `urn:uuid:${entry.entryId}`,
    url: links.entry(entry.entryId),
    title: retracted ? RETRACTED_PREFIX + entry.title : entry.title,
    summary: entry.summary || undefined,
    html: blocks.map(toHtml).join('\n'),
    text: blocks.map(toText).join('\n\n'),
    published: entry.recordedAt,
    updated: entry.updatedAt,
    tags: [entry.kind, ...(entry.corrections.length > 0 ? ['corrected'] : []), ...(retracted ? ['retracted'] : []), ...(entry.tags ?? [])],
  };
}

/** A piece of an item's content, rendered as HTML or text by the same rule. */
type Block =
  | { type: 'note'; text: string }
  | { type: 'paragraph'; text: string }
  | { type: 'details'; rows: Array<[label: string, value: string]> }
  | { type: 'sources'; sources: EntryView['sources'] };

function contentOf(entry: EntryView): Block[] {
  const blocks: Block[] = [];
  if (entry.retraction) blocks.push({ type: 'note', text: `Retracted on ${day(entry.retraction.retractedAt)}: ${entry.retraction.reason}` });
  for (const c of [...entry.corrections].reverse()) {
    blocks.push({ type: 'note', text: `Corrected on ${day(c.correctedAt)} (${c.fields.join(', ')}): ${c.reason}` });
  }
  if (entry.summary) blocks.push({ type: 'paragraph', text: entry.summary });
  blocks.push({ type: 'details', rows: detailsOf(entry) });
  if (entry.sources.length > 0) blocks.push({ type: 'sources', sources: entry.sources });
  return blocks;
}

function detailsOf(entry: EntryView): Array<[string, string]> {
  const rows: Array<[string, string | undefined]> = [['Date', entry.occurredOn], ['Actors', entry.actors.join(', ')]];
  switch (entry.kind) {
    case 'announcement':
      rows.push(['Announced by', entry.announcer], ['Stage', entry.stage], ['Pledge', entry.pledge && money(entry.pledge)]);
      break;
    case 'signing':
      rows.push(
        ['Parties', entry.parties.join(', ')],
        ['Instrument', entry.instrument],
        ['Place', entry.place],
        ['Term', entry.termYears === undefined ? undefined : `${entry.termYears} years`],
      );
      break;
    case 'delivery':
      rows.push(
        ['Supplier', entry.supplier],
        ['Recipient', entry.recipient],
        ['Items', entry.items.map((i) => `${i.category}: ${i.description}${i.quantity === undefined ? '' : ` (${i.quantity})`}`).join('; ')],
        ['Value', entry.value && money(entry.value)],
        ['Channel', entry.channel],
      );
      break;
  }
  return rows.filter((row): row is [string, string] => row[1] !== undefined && row[1] !== '');
}

const money = (m: { amount: number; currency: string }): string => `${m.amount} ${m.currency}`;
const day = (instant: string): string => instant.slice(0, 10);

function sourceText(s: EntryView['sources'][number]): string {
  return [s.title, s.publisher, s.publishedOn].filter(Boolean).join(', ');
}

function toHtml(block: Block): string {
  switch (block.type) {
    case 'note':
      return `<p><strong>${escapeHtml(block.text)}</strong></p>`;
    case 'paragraph':
      return `<p>${escapeHtml(block.text)}</p>`;
    case 'details':
      return `<ul>${block.rows.map(([label, value]) => `<li>${escapeHtml(label)}: ${escapeHtml(value)}</li>`).join('')}</ul>`;
    case 'sources':
      return `<p>Sources:</p><ul>${block.sources
        .map((s) => `<li>${s.url ? `<a href="${escapeHtml(s.url)}">${escapeHtml(sourceText(s))}</a>` : escapeHtml(sourceText(s))}</li>`)
        .join('')}</ul>`;
  }
}

function toText(block: Block): string {
  switch (block.type) {
    case 'note':
    case 'paragraph':
      return block.text;
    case 'details':
      return block.rows.map(([label, value]) => `${label}: ${value}`).join('\n');
    case 'sources':
      return `Sources:\n${block.sources.map((s) => `- ${sourceText(s)}${s.url ? ` <${s.url}>` : ''}`).join('\n')}`;
  }
}
