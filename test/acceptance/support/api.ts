/**
 * What the acceptance specs share for speaking to the built service as a client would:
 * the shapes the API answers with (as README.md documents them), valid entry bodies
 * of each kind, and small fetch helpers.
 *
 * Black-box like the specs themselves: global fetch, Node built-ins and types only,
 * nothing from apps/, libs/ or test/support/. If the tests shared code with the
 * service, a bug in that code could pass unseen.
 *
 * The helpers throw plain Errors (never Jest's expect), so they work the same in a
 * test, in beforeAll, and in a writer running next to a test. Each error names the
 * request and the answer it got.
 */

// ---------------------------------------------------------------------------
// The shapes the API answers with

/** A JSON value: what request bodies are made of. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A JSON object: a request body, or an entry's fields. */
export type Body = { [field: string]: Json };

/** What POST /timelines/:slug/entries, PATCH /entries/:id and POST /entries/:id/retraction answer. */
export interface Written {
  entryId: string;
  revision: number;
  position: string;
}

/** An entry as GET /entries/:id, entry pages and live updates show it: these fields, plus the fields of its kind. */
export interface Entry {
  entryId: string;
  timeline: string;
  kind: string;
  occurredOn: string;
  title: string;
  actors: string[];
  revision: number;
  status: 'active' | 'retracted';
  recordedAt: string;
  updatedAt: string;
  /** The position of the last event applied to the entry. */
  position: string;
  corrections: Array<{ revision: number; reason: string; fields: string[]; correctedAt: string }>;
  retraction?: { reason: string };
  [field: string]: unknown;
}

/** GET /timelines/:slug/entries. */
export interface Page {
  items: Entry[];
  nextCursor: string | null;
  /** The read model's checkpoint when the page was read; with asOf, the position the moment resolved to. */
  position: string | null;
  asOf?: string;
}

/** GET /health. */
export interface Health {
  status: string;
  /** The read model's position. */
  checkpoint: string | null;
  /** The position of the last event in the log. */
  head: string | null;
  lag: number;
}

/** One event of the log: an item of GET /events, a line of its NDJSON and of `timeline export --format ndjson`. */
export interface LogItem {
  position: string;
  id: string;
  stream: string;
  type: string;
  revision: number;
  recordedAt: string;
  data: Body;
  metadata: { correlationId: string; recordedBy: string; hash: string; prevHash: string | null; [key: string]: Json };
}

/** GET /timelines/:slug/export?format=timelinejs, and `timeline export --format timelinejs`. */
export interface TimelineJs {
  title: { text: { headline: string; text: string } };
  events: Array<{
    start_date: { year: number; month?: number; day?: number };
    text: { headline: string; text: string };
    /** The entry's kind; absent on the one event of a timeline without entries, its opening. */
    group?: string;
    unique_id: string;
  }>;
}

// ---------------------------------------------------------------------------
// Valid entry bodies of each kind (the API docs' examples)

const ANNOUNCEMENT: Body = {
  kind: 'announcement',
  occurredOn: '2024-06-13',
  title: 'Japan pledges 4.5 billion dollars for Ukraine in 2024',
  summary: 'Announced at the G7 summit in Apulia.',
  actors: ['JP', 'UA'],
  sources: [{ title: 'Japan Increases Its Support for Ukraine', url: 'https://example.org/japan-ukraine', publishedOn: '2024-08-07' }],
  tags: ['financial-aid'],
  announcer: 'JP',
  stage: 'announced',
  pledge: { amount: 4_500_000_000, currency: 'USD' },
};

const SIGNING: Body = {
  kind: 'signing',
  occurredOn: '2024-06-13',
  title: 'Japan and Ukraine sign a ten-year security accord',
  actors: ['JP', 'UA'],
  sources: [{ title: 'Japan Increases Its Support for Ukraine', publishedOn: '2024-08-07' }],
  parties: ['JP', 'UA'],
  instrument: 'Accord on Support for Ukraine and Cooperation',
  place: 'Apulia, Italy',
  termYears: 10,
};

const DELIVERY: Body = {
  kind: 'delivery',
  occurredOn: '2022-03',
  title: 'Japan sends bulletproof vests and helmets to Ukraine',
  actors: ['JP', 'UA'],
  supplier: 'JP',
  recipient: 'UA',
  items: [
    { category: 'body-armour', description: 'Bulletproof vests', quantity: 1900 },
    { category: 'helmets', description: 'Helmets' },
  ],
  value: { amount: 1_000_000, currency: 'JPY' },
  channel: 'SDF transport aircraft',
};

export interface BodyOptions {
  /** Optional fields of the example to leave out, for a spec that sends a leaner body. Overrides still apply after this. */
  omit?: readonly string[];
}

/** A copy of `body` without `fields`. Copies deeply, so a test may change the result without changing the examples. */
export function without(body: Body, ...fields: readonly string[]): Body {
  const copy = structuredClone(body);
  for (const field of fields) delete copy[field];
  return copy;
}

/** The example without the omitted fields, then the overrides. The fields keep the example's order, as they are sent. */
const build = (example: Body, overrides: Body, options: BodyOptions): Body => ({ ...without(example, ...(options.omit ?? [])), ...overrides });

/** A valid announcement with a pledge. */
export const announcement = (overrides: Body = {}, options: BodyOptions = {}): Body => build(ANNOUNCEMENT, overrides, options);
/** A valid signing with a place and a term. */
export const signing = (overrides: Body = {}, options: BodyOptions = {}): Body => build(SIGNING, overrides, options);
/** A valid delivery of two items, with a value and a channel. */
export const delivery = (overrides: Body = {}, options: BodyOptions = {}): Body => build(DELIVERY, overrides, options);

// ---------------------------------------------------------------------------
// HTTP, with global fetch

export type RequestHeaders = Record<string, string>;

export interface Reply<T = unknown> {
  /** `METHOD /path`, for error messages. */
  request: string;
  status: number;
  headers: Headers;
  /** The answer parsed as JSON when it is JSON; undefined otherwise (a 304, NDJSON). */
  body: T;
  /** The raw text of the answer ('' for a 304). */
  text: string;
}

/** One HTTP request. Never throws on a status, so tests can check refusals as well as successes. */
async function request<T>(baseUrl: string, method: string, path: string, json?: unknown, headers: RequestHeaders = {}): Promise<Reply<T>> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: json === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  const text = await response.text();
  const isJson = /^application\/json/.test(response.headers.get('content-type') ?? '');
  const parsed: unknown = isJson && text !== '' ? JSON.parse(text) : undefined;
  return { request: `${method} ${path}`, status: response.status, headers: response.headers, body: parsed as T, text };
}

/** Returns the reply if it has `status`. Otherwise it throws, naming the request and showing the answer. */
export function expectStatus<R extends Reply>(reply: R, status: number, what: string = reply.request): R {
  if (reply.status !== status) throw new Error(`${what} answered ${reply.status}, not ${status}: ${reply.text}`);
  return reply;
}

/** A timeline to open: what POST /timelines takes. */
export interface NewTimeline {
  slug: string;
  title: string;
  description?: string;
}

export interface CorrectOptions {
  /** Default: 'a better source'. */
  reason?: string;
  /** The revision to send as If-Match. Without it, the entry's current ETag from GET /entries/:id is used. */
  revision?: number;
}

/** The service at one base URL, spoken to as a client does. */
export interface Api {
  get<T = unknown>(path: string, headers?: RequestHeaders): Promise<Reply<T>>;
  post<T = unknown>(path: string, json: unknown, headers?: RequestHeaders): Promise<Reply<T>>;
  patch<T = unknown>(path: string, json: unknown, headers?: RequestHeaders): Promise<Reply<T>>;
  /** A GET that must answer 200; returns its body. */
  read<T>(path: string): Promise<T>;
  /** GET /health, which must answer 200. */
  health(): Promise<Health>;
  /** POST /timelines, which must answer 201; returns the slug. */
  openTimeline(timeline: NewTimeline): Promise<string>;
  /** POST /timelines/:slug/entries, which must answer 201. */
  record(slug: string, body: Body, headers?: RequestHeaders): Promise<Written>;
  /** PATCH /entries/:id with If-Match, which must answer 200. */
  correct(entryId: string, changes: Body, options?: CorrectOptions): Promise<Written>;
  /** POST /entries/:id/retraction, which must answer 200. Default reason: 'never happened'. */
  retract(entryId: string, reason?: string): Promise<Written>;
}

/**
 * The service at `baseUrl`. Pass a function when the service is not started yet
 * (for example, a spec that starts it in beforeAll); it is called on each request.
 * The methods don't use `this`, so they can be destructured.
 */
export function apiAt(baseUrl: string | (() => string)): Api {
  const base = typeof baseUrl === 'string' ? () => baseUrl : baseUrl;
  const get = <T>(path: string, headers: RequestHeaders = {}) => request<T>(base(), 'GET', path, undefined, headers);
  const post = <T>(path: string, json: unknown, headers: RequestHeaders = {}) => request<T>(base(), 'POST', path, json, headers);
  const patch = <T>(path: string, json: unknown, headers: RequestHeaders = {}) => request<T>(base(), 'PATCH', path, json, headers);
  const read = async <T>(path: string): Promise<T> => expectStatus(await get<T>(path), 200).body;

  /** The entry's ETag now. It must be `"<revision>"`: the If-Match a correction will send. */
  async function currentEtag(entryId: string): Promise<string> {
    const current = expectStatus(await get<Entry>(`/entries/${entryId}`), 200, `reading ${entryId}`);
    const etag = current.headers.get('etag');
    if (etag !== `"${current.body.revision}"`) throw new Error(`GET /entries/${entryId} answered ETag ${etag} for revision ${current.body.revision}`);
    return etag;
  }

  return {
    get,
    post,
    patch,
    read,
    health: () => read<Health>('/health'),
    async openTimeline(timeline) {
      expectStatus(await post('/timelines', timeline), 201, `opening ${timeline.slug}`);
      return timeline.slug;
    },
    async record(slug, body, headers = {}) {
      return expectStatus(await post<Written>(`/timelines/${slug}/entries`, body, headers), 201, `recording into ${slug}`).body;
    },
    async correct(entryId, changes, { reason = 'a better source', revision } = {}) {
      const ifMatch = revision === undefined ? await currentEtag(entryId) : `"${revision}"`;
      return expectStatus(await patch<Written>(`/entries/${entryId}`, { changes, reason }, { 'if-match': ifMatch }), 200, `correcting ${entryId}`).body;
    },
    async retract(entryId, reason = 'never happened') {
      return expectStatus(await post<Written>(`/entries/${entryId}/retraction`, { reason }), 200, `retracting ${entryId}`).body;
    },
  };
}
