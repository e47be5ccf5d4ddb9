// The newsroom live page. Loads the timeline over HTTP, then follows the
// /live feed from the snapshot's position, both through @timeline/client
// (served as ES modules from /live/assets/client/, see libs/client/README.md):
// a reconnect resumes from the last position seen, so the page misses nothing
// and shows nothing twice.
import { LiveFeed, TimelineClient } from './client/index.js';

const root = document.getElementById('timeline');
const slug = root.dataset.slug;
const banner = document.getElementById('new-updates');
const status = document.getElementById('connection');
const KIND_LABEL = { announcement: 'Announcement', signing: 'Signing', delivery: 'Delivery' };
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

const api = new TimelineClient(); // same origin
let entries = new Map(); // entryId -> entry shown
const held = new Map(); // entryId -> new entry waiting behind the banner
let position = null; // the last position shown (data-position)

function setStatus(text, state) {
  status.textContent = text;
  status.dataset.state = state;
}

function setPosition(next) {
  if (next && (position === null || next > position)) position = next;
  root.dataset.position = position || '';
}

// Every page of the timeline, newest first; returns the position to follow the feed from.
async function loadSnapshot() {
  root.setAttribute('aria-busy', 'true');
  const snapshot = await api.allEntries(slug, { includeRetracted: true, order: 'desc' });
  entries = new Map(snapshot.items.map((entry) => [entry.entryId, entry]));
  held.clear(); // what the banner was holding is in the new snapshot
  showBanner();
  position = null;
  setPosition(snapshot.position);
  render();
  root.setAttribute('aria-busy', 'false');
  return snapshot.position;
}

// An update is applied only if it is newer than what is shown: pages loaded
// after the first may already hold changes that the feed then repeats.
function isNewer(entry) {
  const shown = entries.get(entry.entryId) || held.get(entry.entryId);
  return !shown || entry.revision > shown.revision;
}

function atTop() {
  return window.scrollY < 80;
}

function onUpdate(update) {
  if (update.timeline !== slug) return;
  setPosition(update.position);
  if (!isNewer(update.entry)) return;
  const isNew = !entries.has(update.entry.entryId);
  if (isNew && !atTop()) {
    held.set(update.entry.entryId, update.entry);
    showBanner();
    return;
  }
  entries.set(update.entry.entryId, update.entry);
  render();
}

function showBanner() {
  const n = held.size;
  banner.textContent = n + (n === 1 ? ' new update' : ' new updates') + ' — show';
  banner.hidden = n === 0;
}

function releaseHeld() {
  held.forEach(function (entry, id) { entries.set(id, entry); });
  held.clear();
  showBanner();
  render();
}

banner.addEventListener('click', function () {
  releaseHeld();
  window.scrollTo({ top: 0, behavior: 'smooth' });
});
window.addEventListener('scroll', function () {
  if (held.size > 0 && atTop()) releaseHeld();
});

// ---- rendering (textContent only: entry text is never parsed as HTML)

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function formatDate(occurredOn) {
  const parts = occurredOn.split('-');
  if (parts.length === 1) return parts[0];
  const month = MONTHS[Number(parts[1]) - 1] + ' ' + parts[0];
  return parts.length === 2 ? month : Number(parts[2]) + ' ' + month;
}

function money(m) {
  return m ? new Intl.NumberFormat('en', { style: 'currency', currency: m.currency, maximumFractionDigits: 0 }).format(m.amount) : null;
}

function facts(entry) {
  const rows = [];
  if (entry.kind === 'announcement') {
    rows.push(['Announced by', entry.announcer], ['Stage', entry.stage], ['Pledge', money(entry.pledge)]);
  } else if (entry.kind === 'signing') {
    rows.push(['Parties', entry.parties.join(', ')], ['Instrument', entry.instrument], ['Place', entry.place],
      ['Term', entry.termYears ? entry.termYears + ' years' : null]);
  } else {
    rows.push(['From', entry.supplier], ['To', entry.recipient], ['Value', money(entry.value)], ['Channel', entry.channel],
      ['Items', entry.items.map(function (i) { return (i.quantity ? i.quantity + ' × ' : '') + i.description; }).join('; ')]);
  }
  const list = el('dl', 'facts');
  rows.forEach(function (row) {
    if (row[1] === null || row[1] === undefined || row[1] === '') return;
    list.append(el('dt', null, row[0]), el('dd', null, row[1]));
  });
  return list;
}

function renderEntry(entry) {
  const retracted = entry.status === 'retracted';
  const article = el('article', 'entry kind-' + entry.kind + (retracted ? ' retracted' : '') + (entry.corrections.length ? ' corrected' : ''));
  article.id = 'entry-' + entry.entryId;
  article.dataset.entryId = entry.entryId;
  article.dataset.revision = String(entry.revision);
  const header = el('header');
  header.append(el('span', 'kind', KIND_LABEL[entry.kind]));
  const title = el('h3', 'title');
  title.append(retracted ? el('del', null, entry.title) : document.createTextNode(entry.title));
  header.append(title);
  article.append(header);
  if (entry.summary) {
    const summary = el('p', 'summary');
    summary.append(retracted ? el('del', null, entry.summary) : document.createTextNode(entry.summary));
    article.append(summary);
  }
  article.append(facts(entry));
  if (entry.corrections.length) {
    const last = entry.corrections[entry.corrections.length - 1];
    article.append(el('p', 'correction-note', 'Corrected: ' + last.reason +
      (entry.corrections.length > 1 ? ' (' + entry.corrections.length + ' corrections)' : '')));
  }
  if (retracted && entry.retraction) article.append(el('p', 'retraction-note', 'Retracted: ' + entry.retraction.reason));
  const footer = el('footer', 'meta');
  footer.append(el('span', 'actors', entry.actors.join(' · ')));
  if (entry.sources.length) footer.append(el('span', 'sources', 'Sources: ' + entry.sources.map(function (s) { return s.title; }).join('; ')));
  article.append(footer);
  return article;
}

function render() {
  const sorted = Array.from(entries.values()).sort(function (a, b) {
    if (a.occurredOn !== b.occurredOn) return a.occurredOn < b.occurredOn ? 1 : -1;
    return a.recordedAt < b.recordedAt ? 1 : a.recordedAt > b.recordedAt ? -1 : 0;
  });
  const fragment = document.createDocumentFragment();
  let section = null;
  let current = null;
  sorted.forEach(function (entry) {
    if (entry.occurredOn !== current) {
      current = entry.occurredOn;
      section = el('section', 'day');
      const heading = el('h2', 'date');
      const time = el('time', null, formatDate(current));
      time.setAttribute('datetime', current);
      heading.append(time);
      section.append(heading);
      fragment.append(section);
    }
    section.append(renderEntry(entry));
  });
  if (sorted.length === 0) fragment.append(el('p', 'empty', 'Nothing recorded yet.'));
  root.replaceChildren(fragment);
}

// ---- the live feed

function fail(error) {
  setStatus(String(error && error.message ? error.message : error), 'error');
}

function follow(after) {
  const feed = new LiveFeed({
    // Status only: LiveFeed itself re-subscribes after the last position on every
    // reconnect, and reconnects after a server-side disconnect (a shutdown).
    onConnection(state) {
      if (state === 'disconnected') setStatus('Reconnecting…', 'reconnecting');
    },
    onShutdown() {
      setStatus('Reconnecting…', 'reconnecting');
    },
  });
  feed.subscribe(slug, {
    onUpdate,
    onLive() {
      setStatus('Live', 'live');
    },
    // Missed more than the server replays, or dropped as a slow reader: reload,
    // and the feed continues after the new snapshot.
    async onResync() {
      setStatus('Catching up…', 'reconnecting');
      return loadSnapshot();
    },
    onError(error) {
      setStatus('Live updates unavailable: ' + error.message, 'error');
    },
  }, { after });
}

loadSnapshot().then(follow, fail);
