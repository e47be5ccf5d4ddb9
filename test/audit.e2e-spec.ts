/**
 * The audit features end to end, over the real service (see ./support/service.ts):
 * an entry's history, the timeline as of a past position or instant, the
 * global log as JSON pages and as NDJSON, and the TimelineJS export.
 */
import { eventHash } from '@timeline/audit';
import { randomUUID } from 'node:crypto';
import { useService } from './support/service';
import {
  announcement,
  delivery,
  expectError,
  expectFieldError,
  openTimeline,
  recordEntry,
  signing,
  uniqueSlug,
  type Api,
  type Body,
  type Written,
} from './support/http';

jest.setTimeout(20_000);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HASH = /^[0-9a-f]{64}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UNKNOWN_ENTRY = '00000000-0000-4000-8000-000000000000';

/** Lets the clock move on by 2 ms or more, so that the next write has a recordedAt of its own. */
async function tick(): Promise<void> {
  const start = Date.now();
  while (Date.now() < start + 2) await new Promise((resolve) => setTimeout(resolve, 1));
}

interface HistoryItem {
  type: string;
  revision: number;
  position: string;
  recordedAt: string;
  recordedBy: string;
  data: Body;
  metadata: Body;
}

interface LogItem {
  position: string;
  id: string;
  stream: string;
  type: string;
  revision: number;
  recordedAt: string;
  data: Body;
  metadata: Body;
}

interface ListReply {
  items: Body[];
  nextCursor: string | null;
  position: string | null;
  asOf?: string;
}

const historyOf = async (api: Api, entryId: string): Promise<HistoryItem[]> => {
  const reply = await api.get(`/entries/${entryId}/history`);
  expect(reply.status).toBe(200);
  return reply.body.items as HistoryItem[];
};

const list = async (api: Api, slug: string, query: string): Promise<ListReply> => {
  const reply = await api.get(`/timelines/${slug}/entries?${query}`);
  expect({ query, status: reply.status, body: reply.body }).toEqual({ query, status: 200, body: expect.anything() });
  return reply.body as ListReply;
};

const correct = async (api: Api, entryId: string, revision: number, changes: Body, headers: Record<string, string> = {}) => {
  const reply = await api.patch(`/entries/${entryId}`, { changes, reason: 'a better source' }, { 'If-Match': `"${revision}"`, ...headers });
  expect(reply.status).toBe(200);
  return reply.body as Written;
};

const retract = async (api: Api, entryId: string, headers: Record<string, string> = {}) => {
  const reply = await api.post(`/entries/${entryId}/retraction`, { reason: 'never happened' }, headers);
  expect(reply.status).toBe(200);
  return reply.body as Written;
};

/** An instant written with a +02:00 offset: the same moment as `iso`, spelled differently. */
function withOffset(iso: string): string {
  const shifted = new Date(Date.parse(iso) + 2 * 3600_000).toISOString();
  return `${shifted.slice(0, -1)}+02:00`;
}

// ---------------------------------------------------------------------------

describe('GET /entries/:id/history', () => {
  const { api } = useService();

  it('lists every event of the entry oldest first, with the correlation ids sent and the hash chain', async () => {
    const slug = await openTimeline(api(), 'history');
    const body = announcement();
    const recorded = await api().post(`/timelines/${slug}/entries`, body, { 'x-correlation-id': 'audit-record-1' });
    expect(recorded.status).toBe(201);
    const { entryId } = recorded.body as Written;
    const corrected = await correct(api(), entryId, 0, { title: 'Japan withdraws the pledge', pledge: null }, { 'x-correlation-id': 'audit-fix-1' });
    const retracted = await retract(api(), entryId, { 'x-correlation-id': 'audit-retract-1' });

    const reply = await api().get(`/entries/${entryId}/history`);
    expect(reply.status).toBe(200);
    expect(Object.keys(reply.body)).toEqual(['items']);
    const items = reply.body.items as HistoryItem[];
    expect(items).toHaveLength(3);
    for (const item of items) {
      expect(Object.keys(item).sort()).toEqual(['data', 'metadata', 'position', 'recordedAt', 'recordedBy', 'revision', 'type']);
      expect(item.recordedAt).toMatch(ISO_TIME);
      expect(typeof item.recordedBy).toBe('string');
      expect(item.recordedBy).toBe(item.metadata.recordedBy);
      expect(item.metadata.schemaVersion).toBe(1);
      expect(item.metadata.hash).toMatch(HASH);
      // The stored hash is the hash of the stored content: nothing was altered on the way.
      expect(eventHash({ type: item.type, data: item.data, metadata: item.metadata as never })).toBe(item.metadata.hash);
    }
    expect(items.map((i) => i.type)).toEqual(['AnnouncementRecorded', 'EntryCorrected', 'EntryRetracted']);
    expect(items.map((i) => i.revision)).toEqual([0, 1, 2]);
    expect(items.map((i) => i.position)).toEqual([(recorded.body as Written).position, corrected.position, retracted.position]);
    expect([...items.map((i) => i.recordedAt)].sort()).toEqual(items.map((i) => i.recordedAt));
    expect(items.map((i) => i.metadata.correlationId)).toEqual(['audit-record-1', 'audit-fix-1', 'audit-retract-1']);

    const { kind: _kind, ...fields } = body;
    expect(items[0].data).toEqual({ entryId, timeline: slug, ...fields, relatedTo: [] });
    expect(items[1].data).toEqual({
      entryId,
      timeline: slug,
      changes: { title: 'Japan withdraws the pledge', pledge: null },
      reason: 'a better source',
    });
    expect(items[2].data).toEqual({ entryId, timeline: slug, reason: 'never happened' });

    expect(items.map((i) => i.metadata.prevHash)).toEqual([null, items[0].metadata.hash, items[1].metadata.hash]);
  });

  it('records a generated correlation id (a uuid) when none is sent, one per request', async () => {
    const slug = await openTimeline(api(), 'history-gen');
    const { entryId } = await recordEntry(api(), slug, signing());
    await correct(api(), entryId, 0, { place: 'Bari' });
    const items = await historyOf(api(), entryId);
    expect(items.map((i) => i.metadata.correlationId)).toEqual([expect.stringMatching(UUID), expect.stringMatching(UUID)]);
    expect(items[0].metadata.correlationId).not.toBe(items[1].metadata.correlationId);
  });

  it('keeps one event for a retried recording (same entryId, same content)', async () => {
    const slug = await openTimeline(api(), 'history-retry');
    const body = delivery({ entryId: randomUUID() });
    const first = await recordEntry(api(), slug, body);
    const again = await recordEntry(api(), slug, body);
    expect(again).toEqual(first);
    const items = await historyOf(api(), body.entryId as string);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ type: 'DeliveryRecorded', revision: 0, position: first.position, metadata: { prevHash: null } });
  });

  it('answers 404 entry_not_found for an unknown entry', async () => {
    expectError(await api().get(`/entries/${UNKNOWN_ENTRY}/history`), 404, 'entry_not_found');
  });

  it.each(['not-a-uuid', '8A1C3E52-4F0B-4D7E-9C21-6B5E0F3A9D47', '8a1c3e52-4f0b-4d7e-9c21-6b5e0f3a9d4'])(
    'answers 400 naming id for the malformed id %s',
    async (id) => {
      expectFieldError(await api().get(`/entries/${id}/history`), 'id');
    },
  );
});

// ---------------------------------------------------------------------------

describe('GET /timelines/:slug/entries?asOf=', () => {
  const { api } = useService();

  let slug: string;
  let other: string;
  /** The writes to `slug`, in order: A recorded, B recorded, A corrected, B retracted, C recorded. */
  let w: Written[];
  /** When each of those writes was recorded (from the entries' history). */
  let at: string[];
  /** What the live list (includeRetracted=true) held right after each write. */
  let live: Body[][];
  let a: string;
  let b: string;
  let c: string;

  beforeAll(async () => {
    slug = await openTimeline(api(), 'asof', 'As of');
    other = await openTimeline(api(), 'asof-other', 'Another story');
    w = [];
    live = [];
    const snapshot = async () => live.push((await list(api(), slug, 'includeRetracted=true')).items);

    await tick();
    w.push(await recordEntry(api(), slug, announcement({ occurredOn: '2024-06-13', title: 'A as first recorded', actors: ['JP', 'UA'] })));
    await snapshot();
    await tick();
    w.push(await recordEntry(api(), slug, delivery({ occurredOn: '2022-03', title: 'B', actors: ['JP', 'UA'] })));
    await snapshot();
    await tick();
    await recordEntry(api(), other, signing({ title: 'In another timeline' })); // between B and A's correction
    await tick();
    [a, b] = [w[0].entryId, w[1].entryId];
    w.push(await correct(api(), a, 0, { title: 'A corrected', actors: ['JP', 'US'] }));
    await snapshot();
    await tick();
    w.push(await retract(api(), b));
    await snapshot();
    await tick();
    w.push(await recordEntry(api(), slug, signing({ occurredOn: '2024-06', title: 'C', actors: ['UA', 'US'], parties: ['UA', 'US'] })));
    await snapshot();
    c = w[4].entryId;

    const [ha, hb, hc] = [await historyOf(api(), a), await historyOf(api(), b), await historyOf(api(), c)];
    at = [ha[0], hb[0], ha[1], hb[1], hc[0]].map((h) => h.recordedAt);
    expect([ha[0], hb[0], ha[1], hb[1], hc[0]].map((h) => h.position)).toEqual(w.map((x) => x.position));
    expect(new Set(at).size).toBe(5);
  });

  const titles = (reply: ListReply) => reply.items.map((e) => `${e.title} (${e.status}, r${e.revision})`);

  it('as of each write position, answers exactly what the live list held then, echoing asOf and the position', async () => {
    for (const [i, written] of w.entries()) {
      const reply = await list(api(), slug, `includeRetracted=true&asOf=${written.position}`);
      expect({ i, reply }).toEqual({ i, reply: { items: live[i], nextCursor: null, position: written.position, asOf: written.position } });
    }
  });

  it('leaves out entries recorded later', async () => {
    expect(titles(await list(api(), slug, `asOf=${w[0].position}`))).toEqual(['A as first recorded (active, r0)']);
    const later = await list(api(), slug, `asOf=${w[3].position}&includeRetracted=true`);
    expect(later.items.map((e) => e.entryId)).not.toContain(c);
  });

  it('does not apply corrections and retractions recorded later', async () => {
    const before = await list(api(), slug, `asOf=${w[1].position}`);
    expect(titles(before)).toEqual(['B (active, r0)', 'A as first recorded (active, r0)']);
    expect(before.items[1]).toMatchObject({ actors: ['JP', 'UA'], corrections: [] });
    expect(before.items[0]).not.toHaveProperty('retraction');

    const corrected = await list(api(), slug, `asOf=${w[2].position}`);
    expect(titles(corrected)).toEqual(['B (active, r0)', 'A corrected (active, r1)']);
    expect(corrected.items[1]).toMatchObject({ actors: ['JP', 'US'], corrections: [{ revision: 1, fields: ['title', 'actors'] }] });

    expect(titles(await list(api(), slug, `asOf=${w[3].position}`))).toEqual(['A corrected (active, r1)']);
    expect(titles(await list(api(), slug, `asOf=${w[3].position}&includeRetracted=true`))).toEqual([
      'B (retracted, r1)',
      'A corrected (active, r1)',
    ]);
  });

  it('applies the filters (kind, actor, from/to, order) to the past version', async () => {
    const at1 = w[1].position;
    expect(titles(await list(api(), slug, `asOf=${at1}&kind=delivery`))).toEqual(['B (active, r0)']);
    expect(titles(await list(api(), slug, `asOf=${at1}&kind=signing`))).toEqual([]);
    // A's actor US came with the correction: not there before it, there after it.
    expect(titles(await list(api(), slug, `asOf=${at1}&actor=US`))).toEqual([]);
    expect(titles(await list(api(), slug, `asOf=${w[2].position}&actor=US`))).toEqual(['A corrected (active, r1)']);
    expect(titles(await list(api(), slug, `asOf=${w[2].position}&actor=UA`))).toEqual(['B (active, r0)']);
    expect(titles(await list(api(), slug, `asOf=${w[4].position}&from=2024&to=2024-06`))).toEqual(['C (active, r0)', 'A corrected (active, r1)']);
    expect(titles(await list(api(), slug, `asOf=${w[4].position}&from=2024-06-13`))).toEqual(['A corrected (active, r1)']);
    expect(titles(await list(api(), slug, `asOf=${w[1].position}&to=2023`))).toEqual(['B (active, r0)']);
    expect(titles(await list(api(), slug, `asOf=${w[1].position}&order=desc`))).toEqual(['A as first recorded (active, r0)', 'B (active, r0)']);
  });

  it('pages the past version with limit and cursor', async () => {
    const first = await list(api(), slug, `asOf=${w[1].position}&limit=1`);
    expect(titles(first)).toEqual(['B (active, r0)']);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await list(api(), slug, `asOf=${w[1].position}&limit=1&cursor=${first.nextCursor}`);
    expect(titles(second)).toEqual(['A as first recorded (active, r0)']);
    expect(second.nextCursor).toBeNull();
  });

  it('resolves an instant to the last change of this timeline recorded at or before it', async () => {
    for (const [i, instant] of at.entries()) {
      const reply = await list(api(), slug, `includeRetracted=true&asOf=${instant}`);
      expect({ i, reply }).toEqual({ i, reply: { items: live[i], nextCursor: null, position: w[i].position, asOf: instant } });
    }
    // Just before A's correction: the last change of this timeline is B's recording, not the other timeline's entry.
    const justBefore = new Date(Date.parse(at[2]) - 1).toISOString();
    const reply = await list(api(), slug, `includeRetracted=true&asOf=${justBefore}`);
    expect(reply).toEqual({ items: live[1], nextCursor: null, position: w[1].position, asOf: justBefore });
  });

  it('reads an instant with another offset, or without milliseconds, as the same moment', async () => {
    const offset = withOffset(at[2]);
    const reply = await list(api(), slug, `asOf=${encodeURIComponent(offset)}`);
    expect(reply).toMatchObject({ position: w[2].position, asOf: offset });
    expect(titles(reply)).toEqual(['B (active, r0)', 'A corrected (active, r1)']);

    // Whole seconds: the first second after C's recording sees everything.
    const nextSecond = new Date(Math.floor(Date.parse(at[4]) / 1000) * 1000 + 1000).toISOString().replace('.000Z', 'Z');
    expect(await list(api(), slug, `asOf=${nextSecond}`)).toMatchObject({ position: w[4].position, asOf: nextSecond });
  });

  it('answers an empty list with position null for an instant before the first change', async () => {
    const reply = await list(api(), slug, 'asOf=2000-01-01T00:00:00Z');
    expect(reply).toEqual({ items: [], nextCursor: null, position: null, asOf: '2000-01-01T00:00:00Z' });
    const justBefore = new Date(Date.parse(at[0]) - 1).toISOString();
    expect(await list(api(), slug, `asOf=${justBefore}`)).toEqual({ items: [], nextCursor: null, position: null, asOf: justBefore });
  });

  it('answers the current list for an instant in the future', async () => {
    const reply = await list(api(), slug, 'includeRetracted=true&asOf=2999-01-01T00:00:00Z');
    expect(reply).toEqual({ items: live[4], nextCursor: null, position: w[4].position, asOf: '2999-01-01T00:00:00Z' });
  });

  it('answers an empty list as of a position before the timeline had entries', async () => {
    const first = '00000000000000000001';
    expect(await list(api(), slug, `asOf=${first}`)).toEqual({ items: [], nextCursor: null, position: first, asOf: first });
  });

  it('without asOf, answers the live list with the checkpoint and no asOf', async () => {
    const reply = await list(api(), slug, 'includeRetracted=true');
    expect(reply.items).toEqual(live[4]);
    expect(reply).not.toHaveProperty('asOf');
  });

  it.each([
    ['not an instant', 'yesterday'],
    ['a date without a time', '2024-06-13'],
    ['an instant without an offset', '2024-06-13T14:05:00'],
    ['an instant with a bad offset', '2024-06-13T14:05:00+2'],
    ['a day that does not exist (30 February)', '2024-02-30T00:00:00Z'],
    ['a day that does not exist (31 April)', '2024-04-31T12:00:00Z'],
    ['a month that does not exist', '2024-13-01T00:00:00Z'],
    ['an hour that does not exist', '2024-06-13T25:00:00Z'],
    ['a short number', '42'],
    ['a position with 21 digits', '000000000000000000001'],
    ['an empty value', ''],
  ])('answers 400 naming asOf for %s (%s)', async (_case, asOf) => {
    expectFieldError(await api().get(`/timelines/${slug}/entries?asOf=${encodeURIComponent(asOf)}`), 'asOf');
  });

  it('answers 404 timeline_not_found for an unknown timeline, asOf or not', async () => {
    expectError(await api().get(`/timelines/${uniqueSlug('nowhere')}/entries?asOf=${w[0].position}`), 404, 'timeline_not_found');
    expectError(await api().get(`/timelines/${uniqueSlug('nowhere')}/entries?asOf=2024-06-13T14:05:00Z`), 404, 'timeline_not_found');
  });
});

// ---------------------------------------------------------------------------

describe('GET /events', () => {
  const { api, service } = useService();
  /** Every event of the log, from one big page. */
  let all: LogItem[];

  beforeAll(async () => {
    const s1 = await openTimeline(api(), 'log');
    const s2 = await openTimeline(api(), 'log');
    const written: Written[] = [];
    for (const [slug, body] of [[s1, announcement()], [s1, delivery()], [s2, signing()], [s2, announcement({ occurredOn: '2023' })], [s1, signing({ occurredOn: '2022' })]] as const) {
      written.push(await recordEntry(api(), slug, body));
    }
    await correct(api(), written[0].entryId, 0, { title: 'Corrected once' });
    await correct(api(), written[0].entryId, 1, { title: 'Corrected twice' });
    await retract(api(), written[2].entryId);
    // 2 timelines + 5 entries + 2 corrections + 1 retraction
    expect(await api().head()).toBe('00000000000000000010');
    const reply = await api().get('/events?limit=1000');
    expect(reply.status).toBe(200);
    all = reply.body.items as LogItem[];
  });

  /** GET /events?format=ndjson..., parsed line by line. */
  async function ndjson(query = ''): Promise<{ status: number; contentType: string | null; text: string; lines: LogItem[] }> {
    const response = await fetch(`${service().url}/events?format=ndjson${query}`);
    const text = await response.text();
    const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n').map((line) => JSON.parse(line) as LogItem);
    return { status: response.status, contentType: response.headers.get('content-type'), text, lines };
  }

  it('answers a page {items, next} of the whole log, in log order, each item complete', async () => {
    const reply = await api().get('/events');
    expect(reply.status).toBe(200);
    expect(Object.keys(reply.body).sort()).toEqual(['items', 'next']);
    expect(reply.body).toEqual({ items: all, next: null });
    expect(all.map((e) => e.position)).toEqual(Array.from({ length: 10 }, (_, i) => String(i + 1).padStart(20, '0')));
    for (const item of all) {
      expect(Object.keys(item).sort()).toEqual(['data', 'id', 'metadata', 'position', 'recordedAt', 'revision', 'stream', 'type']);
      expect(item.id).toMatch(UUID);
      expect(item.recordedAt).toMatch(ISO_TIME);
      expect(item.metadata).toMatchObject({ correlationId: expect.any(String), schemaVersion: 1, hash: expect.stringMatching(HASH) });
    }
    expect(all.map((e) => e.type)).toEqual([
      'TimelineOpened',
      'TimelineOpened',
      'AnnouncementRecorded',
      'DeliveryRecorded',
      'SigningRecorded',
      'AnnouncementRecorded',
      'SigningRecorded',
      'EntryCorrected',
      'EntryCorrected',
      'EntryRetracted',
    ]);
    expect(all[8]).toMatchObject({ stream: all[2].stream, revision: 2, metadata: { prevHash: all[7].metadata.hash } });
  });

  it.each([1, 3, 4, 5, 9, 10, 11])('covers the whole log once, in order, in pages of %i following next', async (limit) => {
    const seen: LogItem[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const reply = await api().get(`/events?limit=${limit}${after ? `&after=${after}` : ''}`);
      expect(reply.status).toBe(200);
      const { items, next } = reply.body as { items: LogItem[]; next: string | null };
      expect(items.length).toBeLessThanOrEqual(limit);
      // A full page says where to go on; a short one is the end.
      expect(next).toBe(items.length === limit ? items[items.length - 1].position : null);
      seen.push(...items);
      after = next;
      pages++;
    } while (after !== null && pages < 50);
    expect(seen).toEqual(all);
    expect(pages).toBe(Math.floor(all.length / limit) + 1);
  });

  it('starts strictly after `after`, and answers an empty last page after the head', async () => {
    expect((await api().get(`/events?after=${all[4].position}`)).body).toEqual({ items: all.slice(5), next: null });
    expect((await api().get(`/events?after=${all[9].position}`)).body).toEqual({ items: [], next: null });
    expect((await api().get(`/events?after=00000000000000000000&limit=2`)).body).toEqual({ items: all.slice(0, 2), next: all[1].position });
  });

  it.each(['0', '1001', '-1', 'abc', '1.5', '1e2', ''])('answers 400 naming limit for limit=%s', async (limit) => {
    expectFieldError(await api().get(`/events?limit=${limit}`), 'limit');
  });

  it('accepts the bounds limit=1 and limit=1000', async () => {
    expect((await api().get('/events?limit=1')).body).toEqual({ items: [all[0]], next: all[0].position });
    expect((await api().get('/events?limit=1000')).body).toEqual({ items: all, next: null });
  });

  it.each(['abc', '42', '0000000000000000001x'])('answers 400 naming after for after=%s', async (after) => {
    expectFieldError(await api().get(`/events?after=${after}`), 'after');
  });

  it('answers 400 naming format for an unknown format', async () => {
    expectFieldError(await api().get('/events?format=xml'), 'format');
  });

  it('answers 400 naming after for a KurrentDB-shaped position, which the embedded store never hands out (not a 500)', async () => {
    const kurrentShaped = '00000000000000000001-00000000000000000001';
    expectFieldError(await api().get(`/events?after=${kurrentShaped}`), 'after');
    const response = await fetch(`${service().url}/events?format=ndjson&after=${kurrentShaped}`);
    expect(response.status).toBe(400);
  });

  it('streams the whole log as NDJSON: one valid JSON line per event, as many as /health counts', async () => {
    const { status, contentType, text, lines } = await ndjson();
    expect(status).toBe(200);
    expect(contentType).toMatch(/^application\/x-ndjson/);
    expect(text.endsWith('\n')).toBe(true);
    expect(lines).toHaveLength(Number(await api().head()));
    expect(lines).toEqual(all);
  });

  it('streams from `after`, and nothing after the head', async () => {
    expect((await ndjson(`&after=${all[6].position}`)).lines).toEqual(all.slice(7));
    const empty = await ndjson(`&after=${all[9].position}`);
    expect(empty.status).toBe(200);
    expect(empty.text).toBe('');
  });

  it('answers 400 naming after for a malformed after in NDJSON too', async () => {
    const response = await fetch(`${service().url}/events?format=ndjson&after=nope`);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: Array<{ field: string }> };
    expect(body.errors.map((e) => e.field)).toContain('after');
  });
});

// ---------------------------------------------------------------------------

describe('GET /timelines/:slug/export?format=timelinejs', () => {
  const { api } = useService();

  it('exports a TimelineJS document: dates at each entry own precision, group = kind, unique_id = entryId, retracted left out, HTML escaped', async () => {
    const slug = uniqueSlug('export');
    const opened = await api().post('/timelines', { slug, title: `<b>Japan</b> & "Ukraine"`, description: "Support <since> 2022's invasion" });
    expect(opened.status).toBe(201);

    const pledge = await recordEntry(
      api(),
      slug,
      announcement({
        occurredOn: '2024-06-13',
        title: '<script>alert("x")</script> pledge',
        summary: 'A & B <i>italic</i>',
        sources: [{ title: 'Source <1>' }],
      }),
    );
    const vests = await recordEntry(api(), slug, delivery({ occurredOn: '2022-03', title: 'Vests' }));
    const accord = await recordEntry(api(), slug, signing({ occurredOn: '2023', title: 'Accord' }));
    const gone = await recordEntry(api(), slug, announcement({ occurredOn: '2023-05', title: 'Never happened' }));
    await retract(api(), gone.entryId);
    await correct(api(), accord.entryId, 0, { title: "Accord's <em>final</em> text" });

    const reply = await api().get(`/timelines/${slug}/export?format=timelinejs`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
    expect(reply.body).toEqual({
      title: { text: { headline: '&lt;b&gt;Japan&lt;/b&gt; &amp; &quot;Ukraine&quot;', text: 'Support &lt;since&gt; 2022&#39;s invasion' } },
      events: [
        { start_date: { year: 2022, month: 3 }, text: { headline: 'Vests', text: expect.any(String) }, group: 'delivery', unique_id: vests.entryId },
        {
          start_date: { year: 2023 },
          text: { headline: 'Accord&#39;s &lt;em&gt;final&lt;/em&gt; text', text: expect.any(String) },
          group: 'signing',
          unique_id: accord.entryId,
        },
        {
          start_date: { year: 2024, month: 6, day: 13 },
          text: { headline: '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; pledge', text: expect.any(String) },
          group: 'announcement',
          unique_id: pledge.entryId,
        },
      ],
    });
    const events = reply.body.events as Array<{ start_date: Body; text: { text: string } }>;
    // Dates carry only the parts the entry has: no month or day invented for a year.
    expect(Object.keys(events[0].start_date).sort()).toEqual(['month', 'year']);
    expect(Object.keys(events[1].start_date)).toEqual(['year']);
    // The body text is HTML for TimelineJS: markup we write, user text escaped.
    const text = events[2].text.text;
    expect(text).toContain('A &amp; B &lt;i&gt;italic&lt;/i&gt;');
    expect(text).toContain('Source &lt;1&gt;');
    expect(text).not.toMatch(/<i>|<1>|<script/);
    for (const event of events) expect(event.text.text).not.toMatch(/<(?!\/?p>)/);
  });

  it('exports one event, the opening, for a timeline without entries (TimelineJS refuses no events), and drops it with the first entry', async () => {
    const slug = await openTimeline(api(), 'export-empty', 'Empty');
    const { openedAt } = (await api().get(`/timelines/${slug}`)).body as { openedAt: string };
    const [year, month, day] = openedAt.slice(0, 10).split('-').map(Number);
    const reply = await api().get(`/timelines/${slug}/export?format=timelinejs`);
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      title: { text: { headline: 'Empty', text: '' } },
      events: [{ start_date: { year, month, day }, text: { headline: 'Timeline opened', text: '<p>Nothing recorded yet.</p>' }, unique_id: 'opened' }],
    });

    const first = await recordEntry(api(), slug, delivery({ occurredOn: '2022-03' }));
    const events = (await api().get(`/timelines/${slug}/export?format=timelinejs`)).body.events as Array<{ unique_id: string }>;
    expect(events.map((e) => e.unique_id)).toEqual([first.entryId]);
  });

  it.each([
    ['another format', '?format=csv'],
    ['the ndjson format (not a timeline format)', '?format=ndjson'],
    ['no format', ''],
  ])('answers 400 naming format for %s', async (_case, query) => {
    const slug = await openTimeline(api(), 'export-format');
    expectFieldError(await api().get(`/timelines/${slug}/export${query}`), 'format');
  });

  it('answers 404 timeline_not_found for an unknown timeline, 400 for a malformed slug', async () => {
    expectError(await api().get(`/timelines/${uniqueSlug('nowhere')}/export?format=timelinejs`), 404, 'timeline_not_found');
    expectFieldError(await api().get('/timelines/Not_A_Slug/export?format=timelinejs'), 'slug');
  });
});

// ---------------------------------------------------------------------------

describe('a log longer than one page (1,001 entries in one timeline)', () => {
  const { api, service } = useService();
  let slug: string;
  let ids: string[];

  beforeAll(async () => {
    slug = await openTimeline(api(), 'long', 'Long');
    ids = [];
    for (let batch = 0; batch < 11; batch++) {
      const size = batch < 10 ? 100 : 1;
      const written = await Promise.all(
        Array.from({ length: size }, (_, i) => {
          const n = batch * 100 + i;
          const occurredOn = `20${String(10 + (n % 15)).padStart(2, '0')}-${String(1 + (n % 12)).padStart(2, '0')}`;
          return recordEntry(api(), slug, delivery({ occurredOn, title: `Delivery ${n}` }));
        }),
      );
      ids.push(...written.map((x) => x.entryId));
    }
    expect(await api().head()).toBe('00000000000000001002');
  }, 30_000);

  it('exports every entry, past the read model page of 500, in date order', async () => {
    const reply = await api().get(`/timelines/${slug}/export?format=timelinejs`);
    expect(reply.status).toBe(200);
    const events = reply.body.events as Array<{ start_date: { year: number; month: number }; unique_id: string }>;
    expect(events).toHaveLength(1001);
    expect(new Set(events.map((e) => e.unique_id))).toEqual(new Set(ids));
    const keys = events.map((e) => e.start_date.year * 100 + e.start_date.month);
    expect(keys).toEqual([...keys].sort((x, y) => x - y));
  });

  it('streams all 1,002 events as NDJSON, past the page of 1,000, each once and in order', async () => {
    const response = await fetch(`${service().url}/events?format=ndjson`);
    expect(response.status).toBe(200);
    const lines = (await response.text()).replace(/\n$/, '').split('\n').map((line) => JSON.parse(line) as LogItem);
    expect(lines).toHaveLength(Number(await api().head()));
    expect(lines.map((e) => e.position)).toEqual(Array.from({ length: 1002 }, (_, i) => String(i + 1).padStart(20, '0')));
    expect(new Set(lines.map((e) => e.id)).size).toBe(1002);
  });

  it('pages the log at most 1,000 at a time', async () => {
    const first = await api().get('/events?limit=1000');
    expect(first.body.items).toHaveLength(1000);
    expect(first.body.next).toBe('00000000000000001000');
    const second = await api().get(`/events?limit=1000&after=${first.body.next}`);
    expect(second.body.items.map((e: LogItem) => e.position)).toEqual(['00000000000000001001', '00000000000000001002']);
    expect(second.body.next).toBeNull();
  });
});
