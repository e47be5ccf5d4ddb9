// The newsroom live page. Loads the timeline over HTTP, then follows the
// /live feed from the snapshot's position: a reconnect resumes from the last
// position seen, so the page misses nothing and shows nothing twice.
/* global io */
(function () {
  'use strict';

  var root = document.getElementById('timeline');
  var slug = root.dataset.slug;
  var banner = document.getElementById('new-updates');
  var status = document.getElementById('connection');
  var KIND_LABEL = { announcement: 'Announcement', signing: 'Signing', delivery: 'Delivery' };
  var MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

  var entries = new Map(); // entryId -> entry shown
  var held = new Map(); // entryId -> new entry waiting behind the banner
  var position = null; // the last position received
  var socket = null;

  function setStatus(text, state) {
    status.textContent = text;
    status.dataset.state = state;
  }

  function setPosition(next) {
    if (next && (position === null || next > position)) position = next;
    root.dataset.position = position || '';
  }

  async function loadSnapshot() {
    root.setAttribute('aria-busy', 'true');
    var snapshot = new Map();
    var cursor = null;
    var first = null;
    do {
      var url = '/timelines/' + encodeURIComponent(slug) + '/entries?includeRetracted=true&order=desc&limit=500' +
        (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
      var response = await fetch(url);
      if (!response.ok) throw new Error('could not load the timeline (' + response.status + ')');
      var page = await response.json();
      if (first === null) first = page.position;
      page.items.forEach(function (entry) { snapshot.set(entry.entryId, entry); });
      cursor = page.nextCursor;
    } while (cursor);
    entries = snapshot;
    held.clear(); // what the banner was holding is in the new snapshot
    showBanner();
    position = null;
    setPosition(first);
    render();
    root.setAttribute('aria-busy', 'false');
  }

  // An update is applied only if it is newer than what is shown: pages loaded
  // after the first may already hold changes that the feed then repeats.
  function isNewer(entry) {
    var shown = entries.get(entry.entryId) || held.get(entry.entryId);
    return !shown || entry.revision > shown.revision;
  }

  function atTop() {
    return window.scrollY < 80;
  }

  function onUpdate(update) {
    if (update.timeline !== slug) return;
    setPosition(update.position);
    if (!isNewer(update.entry)) return;
    var isNew = !entries.has(update.entry.entryId);
    if (isNew && !atTop()) {
      held.set(update.entry.entryId, update.entry);
      showBanner();
      return;
    }
    entries.set(update.entry.entryId, update.entry);
    render();
  }

  function showBanner() {
    var n = held.size;
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
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function formatDate(occurredOn) {
    var parts = occurredOn.split('-');
    if (parts.length === 1) return parts[0];
    var month = MONTHS[Number(parts[1]) - 1] + ' ' + parts[0];
    return parts.length === 2 ? month : Number(parts[2]) + ' ' + month;
  }

  function money(m) {
    return m ? new Intl.NumberFormat('en', { style: 'currency', currency: m.currency, maximumFractionDigits: 0 }).format(m.amount) : null;
  }

  function facts(entry) {
    var rows = [];
    if (entry.kind === 'announcement') {
      rows.push(['Announced by', entry.announcer], ['Stage', entry.stage], ['Pledge', money(entry.pledge)]);
    } else if (entry.kind === 'signing') {
      rows.push(['Parties', entry.parties.join(', ')], ['Instrument', entry.instrument], ['Place', entry.place],
        ['Term', entry.termYears ? entry.termYears + ' years' : null]);
    } else {
      rows.push(['From', entry.supplier], ['To', entry.recipient], ['Value', money(entry.value)], ['Channel', entry.channel],
        ['Items', entry.items.map(function (i) { return (i.quantity ? i.quantity + ' × ' : '') + i.description; }).join('; ')]);
    }
    var list = el('dl', 'facts');
    rows.forEach(function (row) {
      if (row[1] === null || row[1] === undefined || row[1] === '') return;
      list.append(el('dt', null, row[0]), el('dd', null, row[1]));
    });
    return list;
  }

  function renderEntry(entry) {
    var retracted = entry.status === 'retracted';
    var article = el('article', 'entry kind-' + entry.kind + (retracted ? ' retracted' : '') + (entry.corrections.length ? ' corrected' : ''));
    article.id = 'entry-' + entry.entryId;
    article.dataset.entryId = entry.entryId;
    article.dataset.revision = String(entry.revision);
    var header = el('header');
    header.append(el('span', 'kind', KIND_LABEL[entry.kind]));
    var title = el('h3', 'title');
    title.append(retracted ? el('del', null, entry.title) : document.createTextNode(entry.title));
    header.append(title);
    article.append(header);
    if (entry.summary) {
      var summary = el('p', 'summary');
      summary.append(retracted ? el('del', null, entry.summary) : document.createTextNode(entry.summary));
      article.append(summary);
    }
    article.append(facts(entry));
    if (entry.corrections.length) {
      var last = entry.corrections[entry.corrections.length - 1];
      article.append(el('p', 'correction-note', 'Corrected: ' + last.reason +
        (entry.corrections.length > 1 ? ' (' + entry.corrections.length + ' corrections)' : '')));
    }
    if (retracted && entry.retraction) article.append(el('p', 'retraction-note', 'Retracted: ' + entry.retraction.reason));
    var footer = el('footer', 'meta');
    footer.append(el('span', 'actors', entry.actors.join(' · ')));
    if (entry.sources.length) footer.append(el('span', 'sources', 'Sources: ' + entry.sources.map(function (s) { return s.title; }).join('; ')));
    article.append(footer);
    return article;
  }

  function render() {
    var sorted = Array.from(entries.values()).sort(function (a, b) {
      if (a.occurredOn !== b.occurredOn) return a.occurredOn < b.occurredOn ? 1 : -1;
      return a.recordedAt < b.recordedAt ? 1 : a.recordedAt > b.recordedAt ? -1 : 0;
    });
    var fragment = document.createDocumentFragment();
    var section = null;
    var current = null;
    sorted.forEach(function (entry) {
      if (entry.occurredOn !== current) {
        current = entry.occurredOn;
        section = el('section', 'day');
        var heading = el('h2', 'date');
        var time = el('time', null, formatDate(current));
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

  function subscribe() {
    var message = position ? { timeline: slug, after: position } : { timeline: slug };
    socket.emit('subscribe', message, function (ack) {
      if (ack && ack.ok) {
        setPosition(ack.position);
        setStatus('Live', 'live');
      } else if (ack && ack.error.code === 'resync_required') {
        loadSnapshot().then(subscribe, fail);
      } else {
        setStatus('Live updates unavailable: ' + (ack ? ack.error.message : 'no answer'), 'error');
      }
    });
  }

  function fail(error) {
    setStatus(String(error && error.message ? error.message : error), 'error');
  }

  function follow() {
    socket = io('/live');
    socket.on('connect', subscribe);
    socket.on('update', onUpdate);
    socket.on('resync', function () {
      setStatus('Catching up…', 'reconnecting');
      loadSnapshot().then(subscribe, fail);
    });
    socket.on('shutdown', function () { setStatus('Reconnecting…', 'reconnecting'); });
    socket.on('disconnect', function (reason) {
      setStatus('Reconnecting…', 'reconnecting');
      // A server that closed us on purpose (shutting down) is not retried by
      // socket.io itself; another instance will take us.
      if (reason === 'io server disconnect') setTimeout(function () { socket.connect(); }, 500);
    });
  }

  loadSnapshot().then(follow, fail);
})();
