/**
 * Bad input gets 400 with a message naming the field. Nothing is appended for
 * a rejected request.
 *
 * Each rejected write is checked three ways: the status (400, or 413 for an
 * oversized body), `errors[].field` naming the offending field (with a problem
 * message that names it too), and GET /health's `head` (the last log position)
 * unchanged after the request.
 */
import { randomUUID } from 'node:crypto';
import { useService } from './support/service';
import {
  announcement,
  builderOf,
  delivery,
  expectFieldError,
  openTimeline,
  recordEntry,
  signing,
  type Api,
  type Body,
  type Reply,
  type Written,
} from './support/http';

jest.setTimeout(20_000);

/** Sends a write that must be refused: the status, the field named, and nothing appended. */
async function expectRejected(api: Api, send: () => Promise<Reply>, field: string, status = 400): Promise<Reply> {
  const before = await api.head();
  const reply = await send();
  expectFieldError(reply, field, status);
  expect(await api.head()).toBe(before);
  return reply;
}

/** The body with `path` (dotted, e.g. 'items.0.description') set to `value`, or removed when value is `REMOVE`. */
const REMOVE = Symbol('remove');
function withField(body: Body, path: string, value: unknown): Body {
  const copy = structuredClone(body);
  const keys = path.split('.');
  let at: any = copy; // eslint-disable-line @typescript-eslint/no-explicit-any
  for (const key of keys.slice(0, -1)) at = at[key];
  const last = keys[keys.length - 1];
  if (value === REMOVE) delete at[last];
  else at[last] = value;
  return copy;
}

describe('POST /timelines/:slug/entries', () => {
  const { api } = useService();
  let slug: string;
  beforeAll(async () => {
    slug = await openTimeline(api(), 'bad-entries');
  });

  const post = (body: unknown, headers: Record<string, string> = {}) => api().post(`/timelines/${slug}/entries`, body, headers);
  const postRaw = (raw: string, headers: Record<string, string> = {}) =>
    api().request('POST', `/timelines/${slug}/entries`, { raw, headers });

  it.each(Object.keys(builderOf) as Array<keyof typeof builderOf>)('accepts the valid %s body that the cases below break', async (kind) => {
    const reply = await post(builderOf[kind]());
    expect(reply.status).toBe(201);
  });

  describe('a body that is not a JSON object', () => {
    it.each([
      ['malformed JSON', '{"kind": "signing", "title": '],
      ['a trailing comma', '{"kind": "signing",}'],
      ['a JSON array', '[]'],
      ['a JSON array of a valid entry', JSON.stringify([signing()])],
      ['a JSON string', '"signing"'],
      ['a JSON number', '42'],
      ['JSON null', 'null'],
    ])('refuses %s, naming body', async (_case, raw) => {
      await expectRejected(api(), () => postRaw(raw), 'body');
    });

    it('refuses a request with no body, naming body', async () => {
      await expectRejected(api(), () => api().request('POST', `/timelines/${slug}/entries`), 'body');
    });

    it('refuses a JSON text sent as text/plain, naming body', async () => {
      await expectRejected(api(), () => postRaw(JSON.stringify(signing()), { 'content-type': 'text/plain' }), 'body');
    });

    it('answers 413 naming body for a body over 256kb', async () => {
      const huge = JSON.stringify(signing({ summary: 'x'.repeat(300 * 1024) }));
      await expectRejected(api(), () => postRaw(huge), 'body', 413);
    });

    it.each([
      ['a __proto__ key', JSON.stringify(signing()).replace('{', '{"__proto__": {"isAdmin": true}, ')],
      ['a nested __proto__ key', JSON.stringify(announcement()).replace('"pledge":{', '"pledge":{"__proto__":{"amount":1},')],
      ['a constructor key', JSON.stringify(signing()).replace('{', '{"constructor": {"prototype": {}}, ')],
    ])('refuses %s, naming body', async (_case, raw) => {
      await expectRejected(api(), () => postRaw(raw), 'body');
    });
  });

  describe('kind', () => {
    it.each([
      ['an unknown kind', { ...signing(), kind: 'treaty' }],
      ['a missing kind', withField(signing(), 'kind', REMOVE)],
      ['a kind of the wrong type', { ...signing(), kind: 1 }],
      ['a kind in capitals', { ...signing(), kind: 'SIGNING' }],
    ])('refuses %s, naming kind', async (_case, body) => {
      await expectRejected(api(), () => post(body), 'kind');
    });
  });

  describe('missing required fields', () => {
    const required: Array<[keyof typeof builderOf, string]> = [
      ...(['announcement', 'signing', 'delivery'] as const).flatMap((kind) =>
        ['occurredOn', 'title', 'actors'].map((field): [keyof typeof builderOf, string] => [kind, field]),
      ),
      ['announcement', 'announcer'],
      ['announcement', 'stage'],
      ['signing', 'parties'],
      ['signing', 'instrument'],
      ['delivery', 'supplier'],
      ['delivery', 'recipient'],
      ['delivery', 'items'],
      ['delivery', 'items.0.category'],
      ['delivery', 'items.0.description'],
      ['announcement', 'pledge.amount'],
      ['announcement', 'pledge.currency'],
      ['announcement', 'sources.0.title'],
    ];

    it.each(required)('refuses a %s without %s, naming it', async (kind, field) => {
      await expectRejected(api(), () => post(withField(builderOf[kind](), field, REMOVE)), field);
    });

    it('names every missing field at once', async () => {
      const reply = await expectRejected(api(), () => post({ kind: 'delivery' }), 'supplier');
      const fields = reply.body.errors.map((e: { field: string }) => e.field);
      expect(fields).toEqual(expect.arrayContaining(['occurredOn', 'title', 'actors', 'supplier', 'recipient', 'items']));
    });
  });

  describe('unknown fields', () => {
    it.each([
      ['at the top', withField(signing(), 'signedBy', 'Kishida'), 'signedBy'],
      ['of another kind', withField(signing(), 'pledge', { amount: 1, currency: 'USD' }), 'pledge'],
      ['inside pledge', withField(announcement(), 'pledge.note', 'approx.'), 'pledge.note'],
      ['inside an item', withField(delivery(), 'items.1.weight', 3), 'items.1.weight'],
      ['inside a source', withField(announcement(), 'sources.0.author', 'someone'), 'sources.0.author'],
      ['server-set: revision', withField(signing(), 'revision', 0), 'revision'],
      ['server-set: status', withField(signing(), 'status', 'active'), 'status'],
      ['server-set: timeline', withField(signing(), 'timeline', 'elsewhere'), 'timeline'],
    ])('refuses an unknown field %s, naming it', async (_case, body, field) => {
      await expectRejected(api(), () => post(body), field);
    });
  });

  describe('impossible or malformed dates', () => {
    it.each(['2024-02-30', '2023-02-29', '2024-13', '2024-00', '2024-06-31', '2024-6-1', '24', '0000', '2024-06-13T00:00', '', 20240613])(
      'refuses occurredOn %p, naming it',
      async (occurredOn) => {
        await expectRejected(api(), () => post(signing({ occurredOn })), 'occurredOn');
      },
    );

    it('refuses an impossible sources.0.publishedOn, naming it', async () => {
      await expectRejected(api(), () => post(withField(announcement(), 'sources.0.publishedOn', '2023-02-29')), 'sources.0.publishedOn');
    });

    it('accepts 2024-02-29, a real leap day', async () => {
      expect((await post(signing({ occurredOn: '2024-02-29' }))).status).toBe(201);
    });
  });

  describe('wrong types', () => {
    it.each([
      ['title: 5', announcement({ title: 5 }), 'title'],
      ["actors: 'JP'", announcement({ actors: 'JP' }), 'actors'],
      ['items: {}', delivery({ items: {} }), 'items'],
      ["pledge.amount: '12'", withField(announcement(), 'pledge.amount', '12'), 'pledge.amount'],
      ["pledge: 'lots'", announcement({ pledge: 'lots' }), 'pledge'],
      ["termYears: '10'", signing({ termYears: '10' }), 'termYears'],
      ['termYears: 2.5', signing({ termYears: 2.5 }), 'termYears'],
      ['summary: 5', announcement({ summary: 5 }), 'summary'],
      ["tags: 'aid'", announcement({ tags: 'aid' }), 'tags'],
      ['items.0.quantity: 1.5', withField(delivery(), 'items.0.quantity', 1.5), 'items.0.quantity'],
      ["sources: {title: 'x'}", announcement({ sources: { title: 'x' } }), 'sources'],
      ['channel: true', delivery({ channel: true }), 'channel'],
    ])('refuses %s, naming the field', async (_case, body, field) => {
      await expectRejected(api(), () => post(body), field);
    });
  });

  describe('values out of range or shape', () => {
    it.each([
      ['termYears 0', signing({ termYears: 0 }), 'termYears'],
      ['termYears 101', signing({ termYears: 101 }), 'termYears'],
      ['quantity 0', withField(delivery(), 'items.0.quantity', 0), 'items.0.quantity'],
      ['amount -1', withField(announcement(), 'pledge.amount', -1), 'pledge.amount'],
      ['amount 0', withField(announcement(), 'pledge.amount', 0), 'pledge.amount'],
      ['amount 1e300 (Infinity is not JSON)', withField(announcement(), 'pledge.amount', 1e300), 'pledge.amount'],
      ['value.amount 1e16', withField(delivery(), 'value.amount', 1e16), 'value.amount'],
      ["currency 'usd'", withField(announcement(), 'pledge.currency', 'usd'), 'pledge.currency'],
      ["currency 'DOLLARS'", withField(delivery(), 'value.currency', 'DOLLARS'), 'value.currency'],
      ["stage 'rumoured'", announcement({ stage: 'rumoured' }), 'stage'],
      ["announcer 'jp'", announcement({ announcer: 'jp' }), 'announcer'],
      ["actors ['jp']", announcement({ actors: ['jp'] }), 'actors'],
      ['actors []', announcement({ actors: [] }), 'actors'],
      ["actors ['JP', 'JP']", announcement({ actors: ['JP', 'JP'] }), 'actors'],
      ["parties ['JP']", signing({ parties: ['JP'] }), 'parties'],
      ["parties ['JP', 'JP']", signing({ parties: ['JP', 'JP'] }), 'parties'],
      ['items []', delivery({ items: [] }), 'items'],
      ["items.1.category 'Body Armour'", withField(delivery(), 'items.1.category', 'Body Armour'), 'items.1.category'],
      ["tags ['Aid']", announcement({ tags: ['Aid'] }), 'tags'],
      ["sources.0.url 'not a url'", withField(announcement(), 'sources.0.url', 'not a url'), 'sources.0.url'],
      ["sources.0.url 'ftp://example.org'", withField(announcement(), 'sources.0.url', 'ftp://example.org/x'), 'sources.0.url'],
      ['title of spaces', announcement({ title: '   ' }), 'title'],
      ['21 actors', announcement({ actors: Array.from({ length: 21 }, (_, i) => `A${i}`) }), 'actors'],
      ['21 tags', announcement({ tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }), 'tags'],
      ["tags ['aid', 'aid']", announcement({ tags: ['aid', 'aid'] }), 'tags'],
      ['51 items', delivery({ items: Array.from({ length: 51 }, () => ({ category: 'aid', description: 'x' })) }), 'items'],
      ['items.0.description of spaces', withField(delivery(), 'items.0.description', '  '), 'items.0.description'],
    ])('refuses %s, naming the field', async (_case, body, field) => {
      await expectRejected(api(), () => post(body), field);
    });
  });

  describe('oversize strings', () => {
    it.each([
      ['title of 201 characters', announcement({ title: 'T'.repeat(201) }), 'title'],
      ['summary of 4001 characters', announcement({ summary: 'S'.repeat(4001) }), 'summary'],
      ['instrument of 201 characters', signing({ instrument: 'I'.repeat(201) }), 'instrument'],
      ['channel of 65 characters', delivery({ channel: 'C'.repeat(65) }), 'channel'],
      ['items.0.description of 501 characters', withField(delivery(), 'items.0.description', 'D'.repeat(501)), 'items.0.description'],
      ['sources.0.title of 301 characters', withField(announcement(), 'sources.0.title', 'S'.repeat(301)), 'sources.0.title'],
    ])('refuses a %s, naming it', async (_case, body, field) => {
      await expectRejected(api(), () => post(body), field);
    });

    it('accepts a title of exactly 200 and a summary of exactly 4000 characters', async () => {
      expect((await post(announcement({ title: 'T'.repeat(200), summary: 'S'.repeat(4000) }))).status).toBe(201);
    });
  });

  describe('ids', () => {
    it.each([
      ['not a uuid', 'entry-1'],
      ['an uppercase uuid', '5B1F7A56-1D2C-4F0E-9A51-0C8A3A1E2B10'],
      ['a number', 42],
    ])('refuses an entryId that is %s, naming entryId', async (_case, entryId) => {
      await expectRejected(api(), () => post(signing({ entryId })), 'entryId');
    });

    it('refuses relatedTo with a malformed id, naming relatedTo', async () => {
      await expectRejected(api(), () => post(signing({ relatedTo: ['not-a-uuid'] })), 'relatedTo');
    });

    it('refuses relatedTo naming an entry that does not exist, naming relatedTo.1', async () => {
      const existing = await recordEntry(api(), slug, announcement());
      await expectRejected(api(), () => post(signing({ relatedTo: [existing.entryId, randomUUID()] })), 'relatedTo.1');
    });

    it('refuses an entry related to itself', async () => {
      const entryId = randomUUID();
      const before = await api().head();
      const reply = await post(signing({ entryId, relatedTo: [entryId] }));
      expect(reply.status).toBe(400);
      expect(reply.body.errors.map((e: { field: string }) => e.field)).toEqual([expect.stringMatching(/^relatedTo/)]);
      expect(await api().head()).toBe(before);
    });
  });

  describe('null in an optional field', () => {
    // Whether null is refused (400) or read as "absent" is the service's choice;
    // storing it is not: the entry would then carry `pledge: null` where
    // readers expect Money or no pledge at all.
    it.each([
      ['summary', announcement({ summary: null })],
      ['pledge', announcement({ pledge: null })],
      ['place', signing({ place: null })],
      ['termYears', signing({ termYears: null })],
      ['value', delivery({ value: null })],
      ['channel', delivery({ channel: null })],
    ])('never stores %s: null', async (field, body) => {
      const before = await api().head();
      const reply = await post(body);
      if (reply.status === 201) {
        const stored = await api().get(`/entries/${(reply.body as Written).entryId}`);
        expect(stored.body).not.toHaveProperty(field);
      } else {
        expectFieldError(reply, field);
        expect(await api().head()).toBe(before);
      }
    });
  });

  it.each([
    ['with a space', 'bad id'],
    ['with a slash', 'a/b'],
    ['of 129 characters', 'c'.repeat(129)],
  ])('refuses an x-correlation-id %s, naming the header', async (_case, value) => {
    await expectRejected(api(), () => post(signing(), { 'x-correlation-id': value }), 'x-correlation-id');
  });

  it('replaces a bad x-request-id with a generated one rather than refusing the write: it is ours to log by, not the client\'s data', async () => {
    const reply = await post(signing(), { 'x-request-id': 'no spaces please' });
    expect(reply.status).toBe(201);
    expect(reply.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('accepts a well-formed x-correlation-id', async () => {
    expect((await post(signing(), { 'x-correlation-id': 'req-42:retry.1_a' })).status).toBe(201);
  });

  it('refuses a malformed slug in the path, naming slug', async () => {
    await expectRejected(api(), () => api().post('/timelines/Not_A_Slug/entries', signing()), 'slug');
  });
});

describe('POST /timelines', () => {
  const { api } = useService();
  const postRaw = (raw: string) => api().request('POST', '/timelines', { raw });

  it.each([
    ['malformed JSON', '{"slug": "x", '],
    ['a JSON string', '"my-timeline"'],
    ['a __proto__ key', '{"slug": "proto", "title": "T", "__proto__": {"x": 1}}'],
  ])('refuses %s, naming body', async (_case, raw) => {
    await expectRejected(api(), () => postRaw(raw), 'body');
  });

  it.each([
    ['slug 5', { slug: 5, title: 'T' }, 'slug'],
    ["slug ''", { slug: '', title: 'T' }, 'slug'],
    ["slug '-leading'", { slug: '-leading', title: 'T' }, 'slug'],
    ["slug 'has space'", { slug: 'has space', title: 'T' }, 'slug'],
    ['title 5', { slug: 'typed', title: 5 }, 'title'],
    ['description of 2001 characters', { slug: 'long-description', title: 'T', description: 'D'.repeat(2001) }, 'description'],
    ['description 5', { slug: 'typed-description', title: 'T', description: 5 }, 'description'],
  ])('refuses %s, naming the field', async (_case, body, field) => {
    await expectRejected(api(), () => api().post('/timelines', body), field);
  });

  it('refuses a bad x-correlation-id, naming the header', async () => {
    await expectRejected(api(), () => api().post('/timelines', { slug: 'correlated', title: 'T' }, { 'x-correlation-id': 'bad id!' }), 'x-correlation-id');
  });

  it('answers 413 naming body for a body over 256kb', async () => {
    await expectRejected(api(), () => postRaw(JSON.stringify({ slug: 'huge', title: 'T', description: 'x'.repeat(300 * 1024) })), 'body', 413);
  });
});

describe('a JSON array as the body of any write', () => {
  // POST /timelines/:slug/entries answers "body must be a JSON object"; every other write must too.
  const { api } = useService();
  let slug: string;
  let entry: Written;
  beforeAll(async () => {
    slug = await openTimeline(api(), 'arrays');
    entry = await recordEntry(api(), slug, announcement());
  });

  it.each([
    ['POST /timelines', () => '/timelines', [{ slug: 'in-array', title: 'T' }]],
    ['POST /timelines/:slug/entries', () => `/timelines/${slug}/entries`, [signing()]],
    ['PATCH /entries/:id', () => `/entries/${entry.entryId}`, [{ changes: { title: 'x' }, reason: 'r' }]],
    ['POST /entries/:id/retraction', () => `/entries/${entry.entryId}/retraction`, [{ reason: 'r' }]],
  ])('%s refuses it naming body', async (route, path, body) => {
    const method = route.split(' ')[0];
    await expectRejected(api(), () => api().request(method, path(), { json: body, headers: { 'If-Match': '"0"' } }), 'body');
  });
});

describe('GET /timelines/:slug/entries query strings', () => {
  const { api } = useService();
  let slug: string;
  beforeAll(async () => {
    slug = await openTimeline(api(), 'bad-query');
    await recordEntry(api(), slug, signing());
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=501', 'limit'],
    ['limit=abc', 'limit'],
    ['limit=-1', 'limit'],
    ['limit=2.5', 'limit'],
    ['limit=', 'limit'],
    ['limit=1&limit=2', 'limit'],
    ['order=sideways', 'order'],
    ['order=DESC', 'order'],
    ['kind=x', 'kind'],
    ['kind=signing&kind=delivery', 'kind'],
    ['includeRetracted=yes', 'includeRetracted'],
    ['includeRetracted=1', 'includeRetracted'],
    ['from=2024-02-30', 'from'],
    ['from=2023-02-29', 'from'],
    ['to=2024-13', 'to'],
    ['to=yesterday', 'to'],
    ['actor=jp', 'actor'],
    ['colour=red', 'colour'],
    ['cursor=garbage', 'cursor'],
    ['cursor=%7B%7D', 'cursor'],
    [`cursor=${Buffer.from('["2024"]').toString('base64url')}`, 'cursor'],
    [`cursor=${'a'.repeat(513)}`, 'cursor'],
  ])('refuses ?%s, naming %s', async (query, field) => {
    expectFieldError(await api().get(`/timelines/${slug}/entries?${query}`), field);
  });

  // ListEntriesQuery: "only digits pass" for limit.
  it.each(['limit=1e1', 'limit=0x10'])('refuses ?%s: limit must be written in digits', async (query) => {
    expectFieldError(await api().get(`/timelines/${slug}/entries?${query}`), 'limit');
  });

  it('accepts the boundaries limit=1 and limit=500', async () => {
    expect((await api().get(`/timelines/${slug}/entries?limit=1`)).status).toBe(200);
    expect((await api().get(`/timelines/${slug}/entries?limit=500`)).status).toBe(200);
  });

  it('refuses a malformed slug in the path, naming slug', async () => {
    expectFieldError(await api().get('/timelines/UPPER/entries'), 'slug');
  });
});

describe('PATCH /entries/:id', () => {
  const { api } = useService();
  let slug: string;
  let target: Written;
  let signed: Written;
  beforeAll(async () => {
    slug = await openTimeline(api(), 'bad-patch');
    target = await recordEntry(api(), slug, delivery());
    signed = await recordEntry(api(), slug, signing());
  });
  afterEach(async () => {
    // Whatever was refused, the entries are untouched.
    for (const id of [target.entryId, signed.entryId]) expect((await api().get(`/entries/${id}`)).body.revision).toBe(0);
  });

  const valid = { changes: { channel: 'By rail' }, reason: 'route corrected' };
  const patch = (body: unknown, headers: Record<string, string> = { 'If-Match': '"0"' }, id = target.entryId) =>
    api().patch(`/entries/${id}`, body, headers);

  it.each([
    ['3 without quotes', '3'],
    ['a weak tag W/"0"', 'W/"0"'],
    ['a name in quotes', '"abc"'],
    ['a negative revision', '"-1"'],
    ['a list of tags', '"0", "1"'],
    ['*', '*'],
  ])('refuses If-Match %s, naming If-Match', async (_case, ifMatch) => {
    await expectRejected(api(), () => patch(valid, { 'If-Match': ifMatch }), 'If-Match');
  });

  it.each([
    ['malformed JSON', '{"changes": {"channel": "x"}, "reason": '],
    ['a __proto__ key inside changes', '{"changes": {"__proto__": {"channel": "x"}}, "reason": "r"}'],
  ])('refuses %s, naming body', async (_case, raw) => {
    await expectRejected(api(), () => api().request('PATCH', `/entries/${target.entryId}`, { raw, headers: { 'If-Match': '"0"' } }), 'body');
  });

  it.each([
    ['no changes', { reason: 'r' }, 'changes'],
    ['changes as an array', { changes: [], reason: 'r' }, 'changes'],
    ['changes as a string', { changes: 'channel', reason: 'r' }, 'changes'],
    ['no reason', { changes: { channel: 'x' } }, 'reason'],
    ['a reason of spaces', { changes: { channel: 'x' }, reason: '   ' }, 'reason'],
    ['a reason of 1001 characters', { changes: { channel: 'x' }, reason: 'R'.repeat(1001) }, 'reason'],
    ['an unknown top-level field', { ...valid, force: true }, 'force'],
    ['an impossible changes.occurredOn', { changes: { occurredOn: '2024-02-30' }, reason: 'r' }, 'changes.occurredOn'],
    ['a nested problem in changes.items', { changes: { items: [{ description: 'x' }] }, reason: 'r' }, 'changes.items.0.category'],
    ['an unknown nested field in changes.value', { changes: { value: { amount: 1, currency: 'USD', note: 'x' } }, reason: 'r' }, 'changes.value.note'],
    ['changes.value.amount -1', { changes: { value: { amount: -1, currency: 'USD' } }, reason: 'r' }, 'changes.value.amount'],
    ['changes.title of 201 characters', { changes: { title: 'T'.repeat(201) }, reason: 'r' }, 'changes.title'],
    ['changes.items null (required)', { changes: { items: null }, reason: 'r' }, 'changes.items'],
  ])('refuses %s, naming the field', async (_case, body, field) => {
    await expectRejected(api(), () => patch(body), field);
  });

  it.each([
    ["parties ['JP', 'JP']", { parties: ['JP', 'JP'] }, 'changes.parties'],
    ["parties ['JP']", { parties: ['JP'] }, 'changes.parties'],
    ['termYears 0', { termYears: 0 }, 'changes.termYears'],
    ["a delivery's field on a signing", { supplier: 'JP' }, 'changes.supplier'],
  ])('refuses a signing correction with %s, naming the field', async (_case, changes, field) => {
    await expectRejected(api(), () => patch({ changes, reason: 'r' }, { 'If-Match': '"0"' }, signed.entryId), field);
  });

  it('refuses a malformed id, naming id', async () => {
    await expectRejected(api(), () => api().patch('/entries/12345', valid, { 'If-Match': '"0"' }), 'id');
  });

  it('refuses a bad x-correlation-id, naming the header', async () => {
    await expectRejected(api(), () => patch(valid, { 'If-Match': '"0"', 'x-correlation-id': 'bad id!' }), 'x-correlation-id');
  });
});

describe('POST /entries/:id/retraction', () => {
  const { api } = useService();
  let target: Written;
  beforeAll(async () => {
    const slug = await openTimeline(api(), 'bad-retraction');
    target = await recordEntry(api(), slug, announcement());
  });
  afterEach(async () => {
    const stored = (await api().get(`/entries/${target.entryId}`)).body;
    expect([stored.status, stored.revision]).toEqual(['active', 0]);
  });

  const retract = (body: unknown, headers: Record<string, string> = {}, id = target.entryId) =>
    api().post(`/entries/${id}/retraction`, body, headers);

  it.each([
    ['no reason', {}, 'reason'],
    ['an empty reason', { reason: '' }, 'reason'],
    ['a reason of spaces', { reason: '  ' }, 'reason'],
    ['a reason of 1001 characters', { reason: 'R'.repeat(1001) }, 'reason'],
    ['a reason of the wrong type', { reason: 5 }, 'reason'],
    ['an unknown field', { reason: 'r', force: true }, 'force'],
  ])('refuses %s, naming the field', async (_case, body, field) => {
    await expectRejected(api(), () => retract(body), field);
  });

  it('refuses malformed JSON, naming body', async () => {
    await expectRejected(api(), () => api().request('POST', `/entries/${target.entryId}/retraction`, { raw: '{"reason": ' }), 'body');
  });

  it.each([
    ['3 without quotes', '3'],
    ['a weak tag W/"0"', 'W/"0"'],
  ])('refuses If-Match %s, naming If-Match', async (_case, ifMatch) => {
    await expectRejected(api(), () => retract({ reason: 'r' }, { 'If-Match': ifMatch }), 'If-Match');
  });

  it('refuses a malformed id, naming id', async () => {
    await expectRejected(api(), () => retract({ reason: 'r' }, {}, 'ZZZ'), 'id');
  });

  it('refuses a bad x-correlation-id, naming the header', async () => {
    await expectRejected(api(), () => retract({ reason: 'r' }, { 'x-correlation-id': 'bad id!' }), 'x-correlation-id');
  });
});
