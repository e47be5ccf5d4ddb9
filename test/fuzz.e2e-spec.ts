/**
 * Fuzzing the real app (in process, random port, temporary SQLite store) with
 * fast-check: thousands of random and adversarial bodies, query strings, path
 * segments, headers and socket.io payloads.
 *
 * For every answer: never a 5xx, never a dropped connection; a write that is
 * not known to be valid gets a 4xx in the documented error shape; a request
 * known to be valid (an identical retry, a read) may succeed. After each
 * property the log's head is where it was (nothing appended), and no
 * unhandled rejection or uncaught exception reached the process.
 *
 * A property stops at its first failing batch (no shrinking: the failure
 * names each offending request and what was changed in it) and prints
 * fast-check's seed; FUZZ_SEED=<seed> replays the same run.
 *
 * The last block pins down, one test each, the cases the fuzzer found.
 */
import fc from 'fast-check';
import { startService, type RunningService } from './support/service';
import { apiAt, type Api } from './support/http';
import { closeAllLive, connectLive, emitWithAck, subscribeOk, type LiveAck, type LiveSocket } from './support/live-client';
import { describeRequest, rawClient, type RawClient, type RawRequest } from './support/raw-http';
import { watchProcess, type ProcessWatch } from './support/process-watch';
import {
  adversarialString,
  correctionSpec,
  decodedSegment,
  ENTRY_SPECS,
  garbageBody,
  headerValue,
  nearInvalid,
  objectWith,
  pathSegment,
  queryString,
  searchText,
  RETRACTION_SPEC,
  show,
  TIMELINE_SPEC,
  VALID_ENTRY,
  wrongContentType,
  type BodyCase,
  type Spec,
} from './support/fuzz-arbitraries';

jest.setTimeout(120_000);

/** Every service the suite starts: dev mode (no API_KEYS), rate limits out of the way. */
const ENV = { RATE_LIMIT_WRITES_PER_MINUTE: '1000000', RATE_LIMIT_SUBSCRIBES_PER_MINUTE: '1000000' };

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const SLUG = 'fuzz-story';
const KINDS = ['announcement', 'signing', 'delivery'] as const;
type Kind = (typeof KINDS)[number];

const ID: Record<Kind | 'retracted', string> = {
  announcement: '0f0f0f0f-0000-4000-8000-000000000001',
  signing: '0f0f0f0f-0000-4000-8000-000000000002',
  delivery: '0f0f0f0f-0000-4000-8000-000000000003',
  retracted: '0f0f0f0f-0000-4000-8000-000000000004',
};
const UNKNOWN_ID = '0f0f0f0f-0000-4000-8000-0000000000ff';
const FIXTURE_IDS = Object.values(ID);
const TIMELINE_FIELDS = ['slug', 'title', 'description'];
const CORRECTION_BODY = { changes: { title: 'Corrected by the fuzzer' }, reason: 'fuzz' };
const RETRACTION_BODY = { reason: 'fuzz' };

let service: RunningService;
let api: Api;
let http: RawClient;
let watch: ProcessWatch;
let headAtStart: string | null;
const sent: Record<string, number> = {};

/** What an answer may be. 'error': a write not known to be valid, so 4xx only. 'any': 2xx or 4xx. */
type Expect = 'error' | 'any';

interface Case {
  req: RawRequest;
  expect: Expect;
  note: string;
  /** The documented JSON error shape on 4xx (not for the HTML live page). */
  shape?: boolean;
}

function requestWith(method: string, path: string, body: BodyCase | undefined, headers: Record<string, string | string[]> = {}): RawRequest {
  const all: Record<string, string | string[]> = { ...headers, ...(body?.headers ?? {}) };
  if (body?.body !== undefined) {
    const type = body.contentType === undefined ? 'application/json' : body.contentType;
    if (type !== null) all['content-type'] = type;
  }
  return { method, path, headers: all, body: body?.body };
}

const jsonBody = (value: unknown, note = 'json'): BodyCase => ({ body: JSON.stringify(value), note });

/** Sends a case; returns what is wrong with the answer, or null. */
async function check(c: Case): Promise<string | null> {
  const what = () => `${describeRequest(c.req)}\n    [${c.note}]`;
  let reply;
  try {
    reply = await http.send(c.req);
  } catch (error) {
    return `no answer (${String(error)}) to ${what()}`;
  }
  const { status } = reply;
  if (status >= 500) return `${status} ${reply.text.slice(0, 300)} for ${what()}`;
  const isError = status >= 400 && status < 500;
  const isOk = status >= 200 && status < 300;
  if (c.expect === 'error' && !isError) return `${status} (expected a 4xx) ${reply.text.slice(0, 200)} for ${what()}`;
  // 304: a conditional GET (If-None-Match) that matched the ETag.
  if (c.expect === 'any' && !isError && !isOk && status !== 304) return `${status} (expected 2xx, 304 or 4xx) for ${what()}`;
  if (isError && c.shape !== false) {
    const body = reply.json as { statusCode?: unknown; code?: unknown; message?: unknown } | undefined;
    // Node's HTTP parser refuses a malformed request line (400) or oversized headers (431) itself, with an empty body.
    const parserRefusal = (status === 400 || status === 431) && reply.text === '' && !reply.headers['content-type'];
    if (!parserRefusal && !(body && body.statusCode === status && typeof body.code === 'string' && typeof body.message === 'string')) {
      return `${status} without the error shape: ${reply.text.slice(0, 200)} for ${what()}`;
    }
  }
  return null;
}

/**
 * Runs batches of cases (sent concurrently) as one fast-check property, then
 * checks that nothing was appended and nothing escaped to the process.
 */
async function fuzz(name: string, arb: fc.Arbitrary<Case>, numRuns: number, maxBatch = 12): Promise<void> {
  const before = await api.head();
  // Counterexamples print as short request lines, not as the whole (possibly 256 kB) body.
  const printable = arb.map((c) => Object.assign(c, { [fc.toStringMethod]: () => `${describeRequest(c.req)} [${c.note}]` }));
  await fc.assert(
    fc.asyncProperty(fc.array(printable, { minLength: 1, maxLength: maxBatch }), async (cases) => {
      const problems = (await Promise.all(cases.map(check))).filter((p): p is string => p !== null);
      sent[name] = (sent[name] ?? 0) + cases.length;
      if (problems.length > 0) throw new Error(problems.join('\n  '));
    }),
    { numRuns, seed: SEED, verbose: 0, endOnFailure: true },
  );
  expect({ name, head: await api.head() }).toEqual({ name, head: before });
  expect(watch.problems).toEqual([]);
}

/** `"<n>"`, with any spacing, that parses to `revision`: an If-Match that would match. */
const matchesRevision = (value: string, revision: number): boolean => {
  const m = /^\s*"(\d+)"\s*$/.exec(value);
  return m !== null && Number(m[1]) === revision;
};

/** An If-Match that is present and can never match the current revision (0 for the active fixtures). */
const nonMatchingIfMatch = (revision: number) =>
  fc.oneof(fc.integer({ min: revision + 1, max: 1e6 }).map((n) => `"${n}"`), headerValue()).filter((v) => v.trim() !== '' && !matchesRevision(v, revision));

/** Any If-Match, or none. */
const anyIfMatch = fc.option(fc.oneof(fc.constantFrom('"0"', '"1"', '"2"', '*'), headerValue()), { nil: undefined });

const withIfMatch = (ifMatch: string | undefined): Record<string, string> => (ifMatch === undefined ? {} : { 'if-match': ifMatch });

/**
 * The active fixtures' current revisions (0 unless a bug let a write through):
 * an If-Match built from them stays non-matching even after such a bug.
 */
async function revisions(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const id of [ID.announcement, ID.signing, ID.delivery]) {
    const reply = await api.get(`/entries/${id}`);
    out[id] = Number(/\d+/.exec(reply.headers.get('etag') ?? '0')?.[0] ?? 0);
  }
  return out;
}

beforeAll(async () => {
  service = await startService(ENV);
  api = apiAt(service.url);
  http = rawClient(service.url);
  const opened = await api.post('/timelines', { slug: SLUG, title: 'What the fuzzer may not change' });
  expect(opened.status).toBe(201);
  for (const kind of KINDS) {
    const reply = await api.post(`/timelines/${SLUG}/entries`, { ...VALID_ENTRY[kind], entryId: ID[kind] });
    expect({ kind, status: reply.status, body: reply.body }).toMatchObject({ kind, status: 201 });
  }
  expect((await api.post(`/timelines/${SLUG}/entries`, { ...VALID_ENTRY.announcement, entryId: ID.retracted })).status).toBe(201);
  expect((await api.post(`/entries/${ID.retracted}/retraction`, { reason: 'set up as retracted' })).status).toBe(200);
  headAtStart = await api.head();
  watch = watchProcess();
}, 60_000);

afterAll(async () => {
  watch?.stop();
  closeAllLive();
  http?.close();
  const total = Object.values(sent).reduce((a, b) => a + b, 0);
  console.log(`fuzz: ${total} requests/messages: ${Object.entries(sent).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  await service?.stop();
});

describe('HTTP writes: invalid bodies get a 4xx and append nothing', () => {
  it('POST /timelines', async () => {
    const valid = { slug: 'fuzz-brand-new', title: 'A new story', description: 'd' };
    const arb: fc.Arbitrary<Case> = fc.oneof(
      nearInvalid(TIMELINE_SPEC, valid).map((m) => ({ req: requestWith('POST', '/timelines', jsonBody(m.body)), expect: 'error' as Expect, note: m.note })),
      garbageBody(valid, TIMELINE_FIELDS).map((b) => ({ req: requestWith('POST', '/timelines', b), expect: 'error' as Expect, note: b.note })),
      // The body of a timeline that exists: 409 if read, 400/415 if not.
      wrongContentType({ slug: SLUG, title: 'Again' }).map((b) => ({ req: requestWith('POST', '/timelines', b), expect: 'error' as Expect, note: b.note })),
    );
    await fuzz('POST /timelines', arb, 150);
  });

  it.each(KINDS)('POST /timelines/:slug/entries (%s)', async (kind) => {
    const valid = VALID_ENTRY[kind];
    const fields = Object.keys((ENTRY_SPECS[kind] as Extract<Spec, { t: 'object' }>).fields);
    const path = `/timelines/${SLUG}/entries`;
    const arb: fc.Arbitrary<Case> = fc.oneof(
      { weight: 4, arbitrary: nearInvalid(ENTRY_SPECS[kind], valid).map((m) => ({ req: requestWith('POST', path, jsonBody(m.body)), expect: 'error' as Expect, note: m.note })) },
      { weight: 3, arbitrary: garbageBody(valid, fields).map((b) => ({ req: requestWith('POST', path, b), expect: 'error' as Expect, note: b.note })) },
      // The fixture's own body and id: if read, an identical retry (201, nothing appended).
      { weight: 1, arbitrary: wrongContentType({ ...valid, entryId: ID[kind] }).map((b) => ({ req: requestWith('POST', path, b), expect: 'any' as Expect, note: b.note })) },
      // A valid body into a timeline that does not exist, or under an id taken by different content.
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          { req: requestWith('POST', '/timelines/no-such-story/entries', jsonBody(valid)), expect: 'error' as Expect, note: 'unknown timeline' },
          { req: requestWith('POST', path, jsonBody({ ...valid, entryId: ID.retracted, title: 'Other content' })), expect: 'error' as Expect, note: 'entryId taken' },
        ),
      },
    );
    await fuzz(`POST entries ${kind}`, arb, 120);
  });

  it('PATCH /entries/:id with random If-Match', async () => {
    const rev = await revisions();
    const target = fc.constantFrom<[string, Kind]>(
      [ID.announcement, 'announcement'],
      [ID.signing, 'signing'],
      [ID.delivery, 'delivery'],
      [ID.retracted, 'announcement'],
      [UNKNOWN_ID, 'signing'],
    );
    const arb: fc.Arbitrary<Case> = target.chain(([id, kind]) => {
      const path = `/entries/${id}`;
      const patch = (b: BodyCase, ifMatch: string | undefined, expect: Expect = 'error'): Case => ({
        req: requestWith('PATCH', path, b, withIfMatch(ifMatch)),
        expect,
        note: `${b.note}; If-Match ${JSON.stringify(ifMatch)}`,
      });
      return fc.oneof(
        { weight: 4, arbitrary: fc.tuple(nearInvalid(correctionSpec(kind), CORRECTION_BODY), anyIfMatch).map(([m, im]) => patch(jsonBody(m.body, m.note), im)) },
        { weight: 3, arbitrary: fc.tuple(garbageBody(CORRECTION_BODY, ['changes', 'reason']), anyIfMatch).map(([b, im]) => patch(b, im)) },
        // A valid correction with an If-Match that cannot match (stale, malformed), or none: 412, 400, 428 (404/409 off the active ones).
        {
          weight: 2,
          arbitrary: fc.option(nonMatchingIfMatch(rev[id] ?? 0), { nil: undefined }).map((im) => patch(jsonBody(CORRECTION_BODY, 'valid correction'), im)),
        },
        { weight: 1, arbitrary: fc.tuple(wrongContentType(CORRECTION_BODY), nonMatchingIfMatch(rev[id] ?? 0)).map(([b, im]) => patch(b, im)) },
      );
    });
    await fuzz('PATCH /entries/:id', arb, 250);
  });

  it('POST /entries/:id/retraction with random If-Match', async () => {
    const rev = await revisions();
    const anyTarget = fc.constantFrom(ID.announcement, ID.signing, ID.delivery, ID.retracted, UNKNOWN_ID);
    const retract = (id: string, b: BodyCase, ifMatch: string | undefined): Case => ({
      req: requestWith('POST', `/entries/${id}/retraction`, b, withIfMatch(ifMatch)),
      expect: 'error',
      note: `${b.note}; If-Match ${JSON.stringify(ifMatch)}`,
    });
    const arb: fc.Arbitrary<Case> = fc.oneof(
      { weight: 4, arbitrary: fc.tuple(anyTarget, nearInvalid(RETRACTION_SPEC, RETRACTION_BODY), anyIfMatch).map(([id, m, im]) => retract(id, jsonBody(m.body, m.note), im)) },
      { weight: 3, arbitrary: fc.tuple(anyTarget, garbageBody(RETRACTION_BODY, ['reason']), anyIfMatch).map(([id, b, im]) => retract(id, b, im)) },
      // Valid bodies: an active entry only with an If-Match that cannot match; the retracted and the unknown one with anything.
      {
        weight: 2,
        arbitrary: fc.oneof(
          fc
            .constantFrom(ID.announcement, ID.signing, ID.delivery)
            .chain((id) => nonMatchingIfMatch(rev[id]).map((im) => retract(id, jsonBody(RETRACTION_BODY, 'valid retraction'), im))),
          fc.tuple(fc.constantFrom(ID.retracted, UNKNOWN_ID), anyIfMatch).map(([id, im]) => retract(id, jsonBody(RETRACTION_BODY, 'valid retraction'), im)),
        ),
      },
      { weight: 1, arbitrary: fc.tuple(wrongContentType(RETRACTION_BODY), anyIfMatch).map(([b, im]) => retract(ID.retracted, b, im)) },
    );
    await fuzz('POST /entries/:id/retraction', arb, 200);
  });
});

describe('HTTP reads and URLs', () => {
  it('query strings on the listing, the log, the export and the rest never get a 5xx', async () => {
    const paths = [`/timelines/${SLUG}/entries`, '/search', '/events', `/timelines/${SLUG}/export`, '/timelines', `/timelines/${SLUG}`, `/entries/${ID.signing}`, `/entries/${ID.retracted}/history`, '/health'];
    const arb: fc.Arbitrary<Case> = fc.tuple(fc.constantFrom(...paths), queryString()).map(([path, query]) => ({
      req: { method: 'GET', path: `${path}?${query}` },
      expect: 'any' as Expect,
      note: 'query',
    }));
    await fuzz('GET ?query', arb, 250);
  });

  it('search text on both search routes never gets a 5xx', async () => {
    const arb: fc.Arbitrary<Case> = fc.tuple(fc.constantFrom(`/timelines/${SLUG}/entries`, '/search'), searchText()).map(([path, q]) => ({
      req: { method: 'GET', path: `${path}?q=${encodeURIComponent(q.replace(/[\ud800-\udfff]/g, '\ufffd'))}` },
      expect: 'any' as Expect,
      note: 'q',
    }));
    await fuzz('GET ?q', arb, 150);
  });

  it('path segments with ../, %2e%2e, %00, SQL metacharacters and unicode', async () => {
    const notAFixture = (s: string) => {
      const d = decodedSegment(s);
      return d !== SLUG && !FIXTURE_IDS.includes(d) && !FIXTURE_IDS.includes(d.toLowerCase());
    };
    const segment = pathSegment().filter(notAFixture);
    const arb: fc.Arbitrary<Case> = fc.tuple(segment, fc.nat(10)).map(([s, route]): Case => {
      switch (route) {
        case 0:
          return { req: { method: 'GET', path: `/timelines/${s}` }, expect: 'any', note: 'segment' };
        case 1:
          return { req: { method: 'GET', path: `/timelines/${s}/entries?limit=5` }, expect: 'any', note: 'segment' };
        case 2:
          return { req: { method: 'GET', path: `/entries/${s}` }, expect: 'any', note: 'segment' };
        case 3:
          return { req: { method: 'GET', path: `/entries/${s}/history` }, expect: 'any', note: 'segment' };
        case 4:
          return { req: { method: 'GET', path: `/timelines/${s}/export?format=timelinejs` }, expect: 'any', note: 'segment' };
        case 5:
          return { req: { method: 'GET', path: `/timelines/${s}/live` }, expect: 'any', note: 'segment (HTML page)', shape: false };
        case 6:
          return { req: { method: 'GET', path: `/live/assets/${s}` }, expect: 'any', note: 'segment (asset)' };
        case 7:
          return { req: requestWith('POST', `/timelines/${s}/entries`, jsonBody(VALID_ENTRY.announcement)), expect: 'error', note: 'valid entry, bad slug' };
        case 8:
          return { req: requestWith('PATCH', `/entries/${s}`, jsonBody(CORRECTION_BODY), { 'if-match': '"0"' }), expect: 'error', note: 'valid correction, bad id' };
        case 9:
          return { req: requestWith('POST', `/entries/${s}/retraction`, jsonBody(RETRACTION_BODY)), expect: 'error', note: 'valid retraction, bad id' };
        default:
          return { req: requestWith('POST', `/timelines/${s}`, jsonBody({ slug: SLUG, title: 'x' })), expect: 'error', note: 'no such route' };
      }
    });
    await fuzz('path segments', arb, 250);
  });

  it('random headers: x-correlation-id, x-request-id, if-match and others', async () => {
    const headerName = fc.constantFrom('x-correlation-id', 'x-request-id', 'if-match', 'if-none-match', 'accept', 'accept-encoding', 'accept-language', 'x-forwarded-for', 'x-http-method-override', 'authorization', 'x-api-key', 'cookie', 'range', 'x-fuzz');
    const headers = fc
      .array(fc.tuple(headerName, fc.oneof(headerValue(), fc.array(headerValue(), { minLength: 2, maxLength: 3 }))), { maxLength: 4 })
      .map((pairs) => Object.fromEntries(pairs) as Record<string, string | string[]>);
    // Requests that cannot append whatever the headers say: a read, a conflict, a stale If-Match, an identical retry.
    const rev = await revisions();
    const arb: fc.Arbitrary<Case> = fc.tuple(headers, fc.nat(5), nonMatchingIfMatch(rev[ID.delivery])).map(([h, which, stale]): Case => {
      const ifMatch = h['if-match'];
      const stalePatch = typeof ifMatch === 'string' ? !matchesRevision(ifMatch, rev[ID.delivery]) && ifMatch.trim() !== '' : false;
      switch (which) {
        case 0:
          return { req: requestWith('POST', '/timelines', jsonBody({ slug: SLUG, title: 'Again' }), h), expect: 'error', note: 'existing slug' };
        case 1:
          return { req: requestWith('POST', `/timelines/${SLUG}/entries`, jsonBody({ ...VALID_ENTRY.signing, entryId: ID.signing }), h), expect: 'any', note: 'identical retry' };
        case 2:
          // Keep If-Match from matching: replace a matching (or missing, or array) one.
          return {
            req: requestWith('PATCH', `/entries/${ID.delivery}`, jsonBody(CORRECTION_BODY), { ...h, 'if-match': stalePatch ? (ifMatch as string) : stale }),
            expect: 'error',
            note: 'valid correction, stale If-Match',
          };
        case 3:
          return { req: requestWith('POST', `/entries/${ID.retracted}/retraction`, jsonBody(RETRACTION_BODY), h), expect: 'error', note: 'already retracted' };
        case 4:
          return { req: { method: 'GET', path: `/timelines/${SLUG}/entries`, headers: h }, expect: 'any', note: 'read' };
        default:
          return { req: { method: 'GET', path: `/entries/${ID.announcement}`, headers: h }, expect: 'any', note: 'read' };
      }
    });
    await fuzz('headers', arb, 150);
  });

  it('unknown routes and methods answer 4xx in the error shape', async () => {
    const method = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'PROPFIND', 'M-SEARCH');
    const path = fc.constantFrom('/events', '/health', `/timelines/${SLUG}/entries`, `/entries/${ID.signing}`, `/entries/${ID.signing}/history`, '/timelines', `/timelines/${SLUG}`, '/admin', '/.env', '/%2e%2e/%2e%2e/etc/passwd');
    const arb: fc.Arbitrary<Case> = fc.tuple(method, path).filter(([m, p]) => !isRoute(m, p)).map(([m, p]) => ({
      req: m === 'GET' || m === 'OPTIONS' || m === 'TRACE' ? { method: m, path: p } : requestWith(m, p, jsonBody({ slug: 'x-y', title: 'x' })),
      // OPTIONS is answered by Express itself with the allowed methods.
      expect: (m === 'OPTIONS' ? 'any' : 'error') as Expect,
      note: 'no such route',
      // TRACE/OPTIONS answers come from Express itself in some versions; only the status is checked.
      shape: m !== 'OPTIONS' && m !== 'TRACE',
    }));
    await fuzz('routes', arb, 40);
  });
});

function isRoute(method: string, path: string): boolean {
  const routes: Array<[string, RegExp]> = [
    ['GET', /^\/(events|health|timelines|search)$/],
    ['GET', /^\/timelines\/[^/]+(\/entries)?$/],
    ['GET', /^\/entries\/[^/]+(\/history)?$/],
    ['POST', /^\/timelines(\/[^/]+\/entries)?$/],
    ['PATCH', /^\/entries\/[^/]+$/],
    ['POST', /^\/entries\/[^/]+\/retraction$/],
  ];
  return routes.some(([m, p]) => (m === method || (m === 'GET' && method === 'HEAD')) && p.test(path));
}

// ---------------------------------------------------------------------------
// socket.io

describe('socket.io /live: every payload is answered ok:false, the socket stays up', () => {
  let socket: LiveSocket;

  beforeAll(async () => {
    socket = await connectLive(service.url);
  });

  const SUBSCRIBE_SPEC: Spec = {
    t: 'object',
    fields: {
      timeline: { t: 'string', bad: adversarialString().filter((s) => !/^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(s) || s.length > 64) },
      after: { t: 'string', optional: true, bad: adversarialString().filter((s) => !/^\d{20}(-\d{20})?$/.test(s)) },
    },
  };
  /** Payloads that cannot be a valid subscribe or unsubscribe. */
  const payload: fc.Arbitrary<{ value: unknown; note: string }> = fc.oneof(
    { weight: 4, arbitrary: nearInvalid(SUBSCRIBE_SPEC, { timeline: SLUG, after: '00000000000000000001' }).map((m) => ({ value: m.body, note: m.note })) },
    {
      weight: 3,
      arbitrary: fc
        .anything({ maxDepth: 3, withBoxedValues: true, withNullPrototype: true, withObjectString: true, withSparseArray: true })
        .filter((v) => !(v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).every((k) => k === 'timeline' || k === 'after')))
        .map((v) => ({ value: v, note: 'fc.anything' })),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'), fc.jsonValue({ maxDepth: 2 }), fc.boolean()).map(([key, inner, nested]) => {
        const bad = objectWith([[key, key === 'constructor' ? objectWith([['prototype', inner]]) : inner]]);
        return { value: nested ? objectWith([['timeline', SLUG], ['after', bad]]) : objectWith([['timeline', SLUG], [key, inner]]), note: `${key} key` };
      }),
    },
    // Over the 2048-byte limit, under socket.io's own 64 KB one.
    { weight: 1, arbitrary: fc.integer({ min: 2049, max: 60_000 }).map((n) => ({ value: { timeline: SLUG, after: 'x'.repeat(n) }, note: `${n}-byte payload` })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => ({ value: { timeline: Buffer.from(b) }, note: 'binary attachment' })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => ({ value: Buffer.from(b), note: 'binary payload' })) },
  );

  const refusal = (ack: unknown): boolean => {
    const a = ack as LiveAck | undefined;
    return !!a && a.ok === false && ['invalid', 'not_found', 'resync_required'].includes(a.error?.code);
  };

  it("'subscribe' and 'unsubscribe' with random payloads and extra arguments", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom('subscribe', 'unsubscribe'), payload, fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 2 })), { minLength: 1, maxLength: 10 }),
        async (messages) => {
          const acks = await Promise.all(
            messages.map(([event, p, extra]) =>
              emitWithAck(socket, event, [p.value, ...extra], 5000).then(
                (ack: unknown) => ({ event, p, ack }),
                (error: unknown) => ({ event, p, ack: `no ack: ${String(error)}` }),
              ),
            ),
          );
          sent['socket payloads'] = (sent['socket payloads'] ?? 0) + messages.length;
          const wrong = acks.filter((a) => !refusal(a.ack));
          if (wrong.length > 0) throw new Error(wrong.map((w) => `${w.event} ${show(w.p.value)} [${w.p.note}] → ${show(w.ack)}`).join('\n'));
          if (!socket.connected) throw new Error('the socket was disconnected');
        },
      ),
      { numRuns: 150, seed: SEED, verbose: 0, endOnFailure: true },
    );
    expect(socket.connected).toBe(true);
    expect(watch.problems).toEqual([]);
  });

  it('raw frames: payloads nested thousands deep, __proto__ in the JSON text, odd ack ids', async () => {
    // Sent below socket.io-client's encoder (which would recurse into a deep payload itself), answered by ack id.
    const acks = new Map<number, unknown>();
    const onPacket = (packet: { type: number; nsp: string; id?: number; data?: unknown }) => {
      if (packet.type === 3 && packet.nsp === '/live' && packet.id !== undefined) acks.set(packet.id, (packet.data as unknown[] | undefined)?.[0]);
    };
    socket.io.on('packet', onPacket);
    const engine = socket.io.engine as unknown as { send(data: string): void };
    let nextId = 900_000;
    const frames: Array<{ id: number; text: string }> = [];
    const frame = (event: string, payloadText: string) => {
      const id = nextId++;
      frames.push({ id, text: payloadText.slice(0, 120) });
      engine.send(`2/live,${id}[${JSON.stringify(event)},${payloadText}]`);
    };
    try {
      for (const event of ['subscribe', 'unsubscribe']) {
        // Every frame stays under socket.io's 64 KB limit, beyond which it closes the connection by design.
        for (const depth of [10, 100, 500, 1000, 2000, 3000, 5000, 10_000]) {
          frame(event, '['.repeat(depth * 2) + ']'.repeat(depth * 2));
          frame(event, '{"a":'.repeat(depth) + '1' + '}'.repeat(depth));
          frame(event, `{"timeline":${'['.repeat(depth)}${']'.repeat(depth)}}`);
          frame(event, `{"timeline":"${SLUG}","after":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`);
        }
        for (const text of [
          `{"timeline":"${SLUG}","__proto__":{"polluted":true}}`,
          `{"__proto__":{"timeline":"${SLUG}"}}`,
          `{"timeline":"${SLUG}","constructor":{"prototype":{"polluted":true}}}`,
          `{"timeline":"${SLUG}","after":{"__proto__":null}}`,
          `{"timeline":"${SLUG}","after":"00000000000000000001","after":"x"}`,
          `{"timeline":"\\ud800"}`,
          `{"timeline":"${SLUG}\\u0000"}`,
          `{"timeline":"${SLUG}","after":"99999999999999999999"}`.replace('"after"', '"After"'),
          'null',
          '"fuzz-story"',
          '1e999',
          '[]',
        ]) frame(event, text);
      }
      sent['socket raw frames'] = (sent['socket raw frames'] ?? 0) + frames.length;
      const deadline = Date.now() + 10_000;
      while (acks.size < frames.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const wrong = frames.filter((f) => !refusal(acks.get(f.id))).map((f) => `${f.text} → ${show(acks.get(f.id) ?? 'no ack')}`);
      expect(wrong).toEqual([]);
      expect(socket.connected).toBe(true);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(watch.problems).toEqual([]);
    } finally {
      socket.io.off('packet', onPacket);
    }
  });

  it('unknown events with an ack get no answer, and change nothing', async () => {
    const names = fc.oneof(adversarialString(), fc.constantFrom('Subscribe', 'SUBSCRIBE', 'subscribe ', 'update', 'resync', 'shutdown', 'connect', 'error', '__proto__', 'constructor', 'toString', 'hasOwnProperty'));
    const events = fc.sample(fc.tuple(names, fc.jsonValue({ maxDepth: 2 })), { numRuns: 200, seed: SEED });
    // Names socket.io reserves (connect, disconnect, ...) throw in the client's emit: not sendable.
    const sendable = events.filter(([name]) => !['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'].includes(name));
    const answered: string[] = [];
    const pending = sendable.map(([name, value]) =>
      emitWithAck(socket, name, [value], 1500).then(
        (ack: unknown) => answered.push(`${JSON.stringify(name)} → ${show(ack)}`),
        () => undefined,
      ),
    );
    await Promise.all(pending);
    sent['socket unknown events'] = (sent['socket unknown events'] ?? 0) + sendable.length;
    expect(answered.filter((a) => !a.startsWith('"subscribe"') && !a.startsWith('"unsubscribe"'))).toEqual([]);
    expect(socket.connected).toBe(true);
    expect(watch.problems).toEqual([]);
  });

  it('malformed packets close at most their own connection; the process stays up', async () => {
    const malformed = [
      '2/live,[',
      '2/live,{"a":1}',
      '2/live,"subscribe"',
      '2/live,[]',
      '2/live,[1]',
      '2/live,[null]',
      '2/live,[{"timeline":"x"}]',
      '2/live,1["subscribe",{"_placeholder":true,"num":0}]',
      '51-/live,2["subscribe",{"_placeholder":true,"num":0}]',
      '51-/live,3["subscribe",{"_placeholder":true,"num":99}]',
      '2/live,99999999999999999999999["subscribe",{}]',
      '2/live,-1["subscribe",{}]',
      '2/live,1.5["subscribe",{}]',
      '3/live,1[{"ok":true}]',
      '9',
      '2/nowhere,["subscribe",{}]',
      '0/live,{"token":"\u0000"}',
      '1/live,',
      '4/live,"boom"',
      '2/live,["subscribe",' + '['.repeat(30_000) + ']'.repeat(30_000) + ']',
      '2/live,["subscribe","' + 'x'.repeat(70_000) + '"]',
    ];
    for (const text of malformed) {
      const victim = await connectLive(service.url);
      const engine = victim.io.engine as unknown as { send(data: string): void };
      engine.send(text);
      await new Promise((r) => setTimeout(r, 30));
      victim.disconnect();
    }
    sent['socket malformed packets'] = malformed.length;
    // The long-lived socket never noticed; a fresh one works; the service answers.
    expect(socket.connected).toBe(true);
    const fresh = await connectLive(service.url);
    expect((await api.get('/health')).status).toBe(200);
    expect(await subscribeOk(fresh, { timeline: SLUG })).toBe(await api.head());
    expect(watch.problems).toEqual([]);
  });

  it('after all that, a valid subscribe on the same socket works', async () => {
    expect(socket.connected).toBe(true);
    expect(await subscribeOk(socket, { timeline: SLUG })).toBe(await api.head());
  });
});

describe('after the run', () => {
  it('the log is unchanged, the process healthy, Object.prototype clean, nothing unhandled', async () => {
    const health = await api.get('/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', head: headAtStart, checkpoint: headAtStart });
    const log = await api.get('/events?limit=1000');
    expect(log.body.items.map((e: { stream: string; type: string }) => `${e.stream} ${e.type}`)).toEqual([
      `timeline-${SLUG} TimelineOpened`,
      `entry-${ID.announcement} AnnouncementRecorded`,
      `entry-${ID.signing} SigningRecorded`,
      `entry-${ID.delivery} DeliveryRecorded`,
      `entry-${ID.retracted} AnnouncementRecorded`,
      `entry-${ID.retracted} EntryRetracted`,
    ]);
    for (const kind of KINDS) {
      const entry = await api.get(`/entries/${ID[kind]}`);
      expect({ kind, status: entry.status, etag: entry.headers.get('etag') }).toEqual({ kind, status: 200, etag: '"0"' });
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(watch.problems).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// What the fuzzer found, pinned down one case at a time

describe('adversarial cases, one by one: each is a 400 and appends nothing', () => {
  const CASES_SLUG = 'fuzz-cases';
  const deep = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
  /** An entry of its own for each correction case, so a correction that goes through changes nothing else. */
  const ownEntry = async (kind: Kind): Promise<string> => {
    const reply = await api.post(`/timelines/${CASES_SLUG}/entries`, VALID_ENTRY[kind]);
    expect(reply.status).toBe(201);
    return reply.body.entryId as string;
  };
  const entryWith = (kind: Kind, extra: string) => JSON.stringify(VALID_ENTRY[kind]).slice(0, -1) + `,${extra}}`;

  beforeAll(async () => {
    expect((await api.post('/timelines', { slug: CASES_SLUG, title: 'Cases' })).status).toBe(201);
  });

  type Make = () => Promise<RawRequest>;
  const post = (path: string, body: string): Make => async () => ({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body });
  const correct = (kind: Kind, body: string): Make => async () => ({
    method: 'PATCH',
    path: `/entries/${await ownEntry(kind)}`,
    headers: { 'content-type': 'application/json', 'if-match': '"0"' },
    body,
  });
  const retract = (body: string): Make => async () => ({
    method: 'POST',
    path: `/entries/${await ownEntry('signing')}/retraction`,
    headers: { 'content-type': 'application/json' },
    body,
  });
  const entries = `/timelines/${CASES_SLUG}/entries`;

  const cases: Array<[string, Make]> = [
    // An array where an object belongs passes @ValidateNested.
    ['POST entry: sources: [[]]', post(entries, JSON.stringify({ ...VALID_ENTRY.signing, sources: [[]] }))],
    ['POST entry: items: [[{category, description}]]', post(entries, JSON.stringify({ ...VALID_ENTRY.delivery, items: [[{ category: 'helmets', description: 'Helmets' }]] }))],
    ['POST entry: pledge: []', post(entries, JSON.stringify({ ...VALID_ENTRY.announcement, pledge: [] }))],
    ['POST entry: value: [[]]', post(entries, JSON.stringify({ ...VALID_ENTRY.delivery, value: [[]] }))],
    ['POST entry: sources nested 10 deep', post(entries, JSON.stringify({ ...VALID_ENTRY.signing, sources: JSON.parse(deep(10)) }))],
    ['PATCH: changes.pledge: []', correct('announcement', JSON.stringify({ changes: { pledge: [] }, reason: 'r' }))],
    ['PATCH: changes.items: [[]]', correct('delivery', JSON.stringify({ changes: { items: [[]] }, reason: 'r' }))],
    // Nesting between ~1,200 and ~3,000 levels: parsed fine, then class-transformer overflows the stack (500).
    ['POST /timelines: slug nested 2,000 deep', post('/timelines', `{"slug":${deep(2000)},"title":"t"}`)],
    ['POST entry: title nested 2,000 deep', post(entries, JSON.stringify({ ...VALID_ENTRY.signing, title: 'x' }).replace('"title":"x"', `"title":${deep(2000)}`))],
    ['POST entry: occurredOn nested 1,500 deep', post(entries, JSON.stringify({ ...VALID_ENTRY.signing, occurredOn: 'x' }).replace('"occurredOn":"x"', `"occurredOn":${deep(1500)}`))],
    ['POST entry: sources nested 2,500 deep', post(entries, JSON.stringify({ ...VALID_ENTRY.signing, sources: 'x' }).replace('"sources":"x"', `"sources":${deep(2500)}`))],
    ['PATCH: reason nested 2,000 deep', correct('signing', `{"changes":{"title":"t"},"reason":${deep(2000)}}`)],
    ['PATCH: changes.title nested 2,000 deep', correct('signing', `{"changes":{"title":${deep(2000)}},"reason":"r"}`)],
    ['PATCH: changes nested 2,500 deep', correct('signing', `{"changes":${deep(2500)},"reason":"r"}`)],
    ['POST retraction: reason nested 2,500 deep', retract(`{"reason":${deep(2500)}}`)],
    // Keys named after Object.prototype members slip past forbidNonWhitelisted.
    ['POST /timelines: unknown field "toString"', post('/timelines', '{"slug":"fuzz-to-string","title":"t","toString":{}}')],
    ['POST /timelines: unknown field "valueOf"', post('/timelines', '{"slug":"fuzz-value-of","title":"t","valueOf":1}')],
    ['POST entry: unknown field "hasOwnProperty"', post(entries, entryWith('signing', '"hasOwnProperty":"x"'))],
    ['POST entry: unknown field "isPrototypeOf" in a source', post(entries, JSON.stringify({ ...VALID_ENTRY.signing, sources: [objectWith([['title', 's'], ['isPrototypeOf', 1]])] }))],
    ['PATCH: unknown field "toString" in changes', correct('signing', '{"changes":{"title":"t","toString":1},"reason":"r"}')],
    ['POST retraction: unknown field "__defineGetter__"', retract('{"reason":"r","__defineGetter__":1}')],
    // A correction may point relatedTo at an entry that does not exist; a recording may not.
    ['PATCH: changes.relatedTo names an entry that does not exist', correct('signing', JSON.stringify({ changes: { relatedTo: [UNKNOWN_ID] }, reason: 'r' }))],
  ];

  it.each(cases)('%s', async (_name, make) => {
    const req = await make();
    const before = await api.head();
    const reply = await http.send(req);
    expect({ status: reply.status, code: (reply.json as { code?: string } | undefined)?.code }).toEqual({ status: 400, code: 'invalid' });
    expect(await api.head()).toBe(before);
    expect(watch.problems).toEqual([]);
  });

  // Runs after the cases above: whatever they let into the timeline must not break reading it.
  it('the timeline those cases went into still reads and exports (no 5xx)', async () => {
    const listing = await api.get(`/timelines/${CASES_SLUG}/entries?limit=500&includeRetracted=true`);
    expect(listing.status).toBe(200);
    const exported = await api.get(`/timelines/${CASES_SLUG}/export?format=timelinejs`);
    expect({ status: exported.status, body: exported.status === 200 ? 'a TimelineJS document' : exported.body }).toEqual({ status: 200, body: 'a TimelineJS document' });
  });

  it.each(['toString', 'valueOf', 'hasOwnProperty', '__lookupGetter__'])("socket 'subscribe' with an unknown field %j is refused as invalid", async (key) => {
    const socket = await connectLive(service.url);
    const ack = await emitWithAck<LiveAck>(socket, 'subscribe', [objectWith([['timeline', SLUG], [key, {}]])]);
    expect(ack).toMatchObject({ ok: false, error: { code: 'invalid' } });
  });
});
