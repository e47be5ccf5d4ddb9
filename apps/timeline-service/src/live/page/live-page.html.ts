import type { TimelineView } from '@timeline/projections';

const escape = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

interface LayoutOptions {
  scripts?: string;
  /** The embed's page: its own stylesheet over live.css, light or dark as the reader's system. */
  embed?: boolean;
}

const layout = (title: string, body: string, { scripts = '', embed = false }: LayoutOptions = {}): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/live/assets/live.css">
${embed ? '<meta name="color-scheme" content="light dark">\n<link rel="stylesheet" href="/live/assets/embed.css">\n' : ''}</head>
<body${embed ? ' class="embed"' : ''}>
${body}
${scripts}
</body>
</html>
`;

// An ES module: it imports @timeline/client from /live/assets/client/, which imports
// socket.io-client from the socket.io server's own ESM build (see libs/client/README.md).
const LIVE_SCRIPT = `<script type="module" src="/live/assets/live.js"></script>`;

// What live.js fills and keeps current: the connection status, the banner of held updates, the entries.
const liveParts = (timeline: TimelineView): string => `<div class="banner-slot">
  <button type="button" id="new-updates" class="new-updates" hidden aria-live="polite"></button>
</div>
<main id="timeline" class="timeline" data-slug="${escape(timeline.slug)}" aria-busy="true"></main>`;

const connection = `<p class="connection" id="connection" role="status" aria-live="polite">Connecting…</p>`;

/** The newsroom live page for one timeline; live.js fills it and keeps it current. */
export function livePage(timeline: TimelineView): string {
  return layout(
    `${timeline.title} — live`,
    `<header class="masthead">
  <p class="eyebrow"><a href="/">All timelines</a></p>
  <h1>${escape(timeline.title)}</h1>
  ${timeline.description ? `<p class="standfirst">${escape(timeline.description)}</p>` : ''}
  ${connection}
</header>
${liveParts(timeline)}`,
    { scripts: LIVE_SCRIPT },
  );
}

/** The live page, compact, for an <iframe> in an article: the same live.js, no navigation. */
export function embedPage(timeline: TimelineView): string {
  return layout(
    `${timeline.title} — live`,
    `<header class="embed-head">
  <h1>${escape(timeline.title)}</h1>
  ${connection}
</header>
${liveParts(timeline)}`,
    { scripts: LIVE_SCRIPT, embed: true },
  );
}

/** The index: every timeline, with a link to its live page. */
export function indexPage(timelines: TimelineView[]): string {
  const items = timelines
    .map(
      (t) => `<li><a href="/timelines/${escape(t.slug)}/live">${escape(t.title)}</a>
    <span class="count">${t.entryCount} ${t.entryCount === 1 ? 'entry' : 'entries'}</span>
    ${t.description ? `<p>${escape(t.description)}</p>` : ''}</li>`,
    )
    .join('\n');
  return layout(
    'Timelines',
    `<header class="masthead"><h1>Timelines</h1></header>
<main class="index">${items ? `<ul class="timelines">${items}</ul>` : '<p>No timelines yet.</p>'}</main>`,
  );
}

/** The 404 page of a live page, or of an embed (no link out of the article's frame). */
export function notFoundPage(slug: string, { embed = false } = {}): string {
  const heading = `<h1>No timeline '${escape(slug)}'</h1>`;
  return layout('Not found', `<main class="index">${heading}${embed ? '' : '<p><a href="/">All timelines</a></p>'}</main>`, { embed });
}
