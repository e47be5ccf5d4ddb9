import type { TimelineView } from '@timeline/projections';

const escape = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const layout = (title: string, body: string, scripts = ''): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/live/assets/live.css">
</head>
<body>
${body}
${scripts}
</body>
</html>
`;

/** The newsroom live page for one timeline; live.js fills it and keeps it current. */
export function livePage(timeline: TimelineView): string {
  return layout(
    `${timeline.title} — live`,
    `<header class="masthead">
  <p class="eyebrow"><a href="/">All timelines</a></p>
  <h1>${escape(timeline.title)}</h1>
  ${timeline.description ? `<p class="standfirst">${escape(timeline.description)}</p>` : ''}
  <p class="connection" id="connection" role="status" aria-live="polite">Connecting…</p>
</header>
<div class="banner-slot">
  <button type="button" id="new-updates" class="new-updates" hidden aria-live="polite"></button>
</div>
<main id="timeline" class="timeline" data-slug="${escape(timeline.slug)}" aria-busy="true"></main>`,
    // An ES module: it imports @timeline/client from /live/assets/client/, which imports
    // socket.io-client from the socket.io server's own ESM build (see libs/client/README.md).
    `<script type="module" src="/live/assets/live.js"></script>`,
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

export function notFoundPage(slug: string): string {
  return layout('Not found', `<main class="index"><h1>No timeline '${escape(slug)}'</h1><p><a href="/">All timelines</a></p></main>`);
}
