import { TimelineApiError } from './errors';
import type {
  Entry,
  EntryChanges,
  EntryPage,
  EntryQuery,
  EntryWritten,
  Health,
  HistoryItem,
  LogItem,
  LogPage,
  NewEntry,
  OpenTimeline,
  Position,
  SearchQuery,
  Timeline,
  TimelineJsDocument,
  TimelineOpened,
} from './types';

export interface TimelineClientOptions {
  /**
   * Where the service is, e.g. http://localhost:3000. Default '' : the page's
   * own origin, for the built-in live page and pages served next to the API.
   */
  baseUrl?: string;
  /** Sent as `Authorization: Bearer <apiKey>`: needed for writes and audits once keys are configured. */
  apiKey?: string;
  /** Headers sent with every request, e.g. x-correlation-id. */
  headers?: Record<string, string>;
  /** Another fetch (tests, older runtimes). Default: the global fetch (Node 18+, every browser). */
  fetch?: typeof fetch;
}

/** Options of the untyped `request()`. */
export interface RequestOptions {
  /** Serialised with JSON.stringify and sent as application/json. */
  json?: unknown;
  /** Sent as is (content-type defaults to application/json): for bodies that are not what JSON.stringify makes. */
  raw?: string;
  headers?: Record<string, string>;
  /** Query parameters; undefined values are left out. */
  query?: Record<string, string | number | boolean | undefined>;
  signal?: AbortSignal;
}

/** An HTTP answer as `request()` returns it: never thrown, whatever the status. */
export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  /** Parsed JSON when the answer says it is JSON, else the text. */
  body: T;
}

export interface CorrectEntry {
  changes: EntryChanges;
  /** Why: shown to readers next to the corrected entry. */
  reason: string;
  /**
   * The revision the correction was decided on (the entry's `revision`, or its
   * ETag). Required: a correction made on a stale copy is refused with 412
   * stale_revision rather than silently undoing someone else's.
   */
  revision: number;
}

export interface RetractEntry {
  reason: string;
  /** Optional here: retracting is the same whatever the entry says now; give it to refuse a stale retraction. */
  revision?: number;
}

/** Everything up to the end of a timeline's entries, and the position to follow live from. */
export interface EntrySnapshot {
  items: Entry[];
  position: Position | null;
}

/**
 * The timeline service over HTTP, one method per route. Each typed method
 * resolves with the parsed answer or rejects with a TimelineApiError carrying
 * the service's status, code and field errors. `request()` is the same
 * transport without the typing, for anything else.
 *
 * Uses fetch only, so it runs unchanged in Node 20 and in browsers.
 */
export class TimelineClient {
  readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly defaultHeaders: Record<string, string>;

  constructor(options: TimelineClientOptions = {}) {
    this.baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '');
    // Bound: a browser's fetch called as a method of another object throws "Illegal invocation".
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.defaultHeaders = { ...(options.headers ?? {}) };
    if (options.apiKey !== undefined) this.defaultHeaders.authorization = `Bearer ${options.apiKey}`;
  }

  // ---- timelines

  /** `POST /timelines`: 201, or 409 timeline_exists. */
  openTimeline(timeline: OpenTimeline): Promise<TimelineOpened> {
    return this.call('POST', '/timelines', { json: timeline });
  }

  /** `GET /timelines`. */
  async listTimelines(): Promise<Timeline[]> {
    return (await this.call<{ items: Timeline[] }>('GET', '/timelines')).items;
  }

  /** `GET /timelines/:slug`: 404 timeline_not_found. */
  getTimeline(slug: string): Promise<Timeline> {
    return this.call('GET', `/timelines/${segment(slug)}`);
  }

  // ---- entries

  /**
   * `POST /timelines/:slug/entries`. Give `entryId` (a lowercase UUID) to make
   * retries safe: the same body again answers the same, and records nothing.
   */
  recordEntry(slug: string, entry: NewEntry): Promise<EntryWritten> {
    return this.call('POST', `/timelines/${segment(slug)}/entries`, { json: entry });
  }

  /** `GET /timelines/:slug/entries`: one page; follow `nextCursor` (or use `allEntries`). */
  listEntries(slug: string, query: EntryQuery = {}): Promise<EntryPage> {
    return this.call('GET', `/timelines/${segment(slug)}/entries`, { query: entryQuery(query) });
  }

  /**
   * `GET /search`: entries of every timeline matching `q`, best first, each
   * with its `timeline`; one page, follow `nextCursor`. The same filters as a
   * listing. An unreadable `q` (a quote not closed, a lone OR) is a 400 naming q.
   * To search one timeline, give `q` to `listEntries`.
   */
  search(query: SearchQuery): Promise<EntryPage> {
    return this.call('GET', '/search', { query: entryQuery(query) });
  }

  /** Every page of a listing, one at a time. */
  async *entryPages(slug: string, query: EntryQuery = {}): AsyncGenerator<EntryPage> {
    let cursor = query.cursor;
    do {
      const page = await this.listEntries(slug, { ...query, cursor });
      yield page;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }

  /**
   * Every entry of a listing (all pages), with the position of its first page:
   * the snapshot a live page shows before it subscribes after that position.
   * Later pages may already hold changes made after it; the live feed then
   * repeats them, which is why a page compares revisions before applying.
   */
  async allEntries(slug: string, query: EntryQuery = {}): Promise<EntrySnapshot> {
    const items: Entry[] = [];
    let position: Position | null | undefined;
    for await (const page of this.entryPages(slug, { limit: 500, ...query })) {
      if (position === undefined) position = page.position;
      items.push(...page.items);
    }
    return { items, position: position ?? null };
  }

  /** `GET /entries/:id`: 404 entry_not_found. Its `revision` is what `If-Match` takes. */
  getEntry(entryId: string): Promise<Entry> {
    return this.call('GET', `/entries/${segment(entryId)}`);
  }

  /**
   * `PATCH /entries/:id` with `If-Match: "<revision>"`: 412 stale_revision when
   * someone else changed it since, 409 entry_retracted.
   */
  correctEntry(entryId: string, { changes, reason, revision }: CorrectEntry): Promise<EntryWritten> {
    return this.call('PATCH', `/entries/${segment(entryId)}`, { json: { changes, reason }, headers: ifMatch(revision) });
  }

  /** `POST /entries/:id/retraction`: 409 entry_retracted when it already is; 412 with a stale `revision`. */
  retractEntry(entryId: string, { reason, revision }: RetractEntry): Promise<EntryWritten> {
    return this.call('POST', `/entries/${segment(entryId)}/retraction`, { json: { reason }, headers: ifMatch(revision) });
  }

  // ---- audit (the audit role, once keys are configured)

  /** `GET /entries/:id/history`: every event of the entry, oldest first. */
  async entryHistory(entryId: string): Promise<HistoryItem[]> {
    return (await this.call<{ items: HistoryItem[] }>('GET', `/entries/${segment(entryId)}/history`)).items;
  }

  /** `GET /timelines/:slug/entries?asOf=`: the timeline as it stood at an instant (with its offset) or a position. */
  entriesAsOf(slug: string, asOf: string | Date, query: Omit<EntryQuery, 'asOf'> = {}): Promise<EntryPage> {
    return this.listEntries(slug, { ...query, asOf: asOf instanceof Date ? asOf.toISOString() : asOf });
  }

  /** `GET /events`: a page of the global log after `after`. */
  events(options: { after?: Position; limit?: number } = {}): Promise<LogPage> {
    return this.call('GET', '/events', { query: { after: options.after, limit: options.limit } });
  }

  /**
   * `GET /events?format=ndjson`: the whole log (or from `after`), one event at
   * a time as the server streams it, without holding it in memory.
   */
  async *eventStream(options: { after?: Position; signal?: AbortSignal } = {}): AsyncGenerator<LogItem> {
    const path = '/events';
    const response = await this.send('GET', path, { query: { format: 'ndjson', after: options.after }, signal: options.signal });
    if (!response.ok) throw new TimelineApiError(response.status, await parseBody(response), 'GET', path);
    if (!response.body) return;
    const decoder = new TextDecoder();
    let buffered = '';
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        buffered += done ? decoder.decode() : decoder.decode(value, { stream: true });
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          if (line.trim() !== '') yield JSON.parse(line) as LogItem;
        }
        if (done) break;
      }
      if (buffered.trim() !== '') yield JSON.parse(buffered) as LogItem;
    } finally {
      // Stopping early (break in for await) must not leave the server streaming into a dead socket.
      await reader.cancel().catch(() => undefined);
    }
  }

  /** `GET /timelines/:slug/export?format=timelinejs`: ready to embed in TimelineJS. */
  exportTimelineJs(slug: string): Promise<TimelineJsDocument> {
    return this.call('GET', `/timelines/${segment(slug)}/export`, { query: { format: 'timelinejs' } });
  }

  // ---- operations

  /** `GET /health`: 200 even when degraded; read `status` and `problems`. */
  health(): Promise<Health> {
    return this.call('GET', '/health');
  }

  // ---- transport

  /** Any request, answered whatever its status: the typed methods are built on it. */
  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const response = await this.send(method, path, options);
    return { status: response.status, headers: response.headers, body: (await parseBody(response)) as T };
  }

  private async send(method: string, path: string, options: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { ...this.defaultHeaders, ...(options.headers ?? {}) };
    let body: string | undefined;
    if (options.raw !== undefined) body = options.raw;
    else if (options.json !== undefined) body = JSON.stringify(options.json);
    if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['content-type'] = 'application/json';
    }
    return this.fetchImpl(this.baseUrl + path + queryString(options.query), { method, headers, body, signal: options.signal });
  }

  private async call<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.request<T>(method, path, options);
    if (response.status < 200 || response.status > 299) throw new TimelineApiError(response.status, response.body, method, path);
    return response.body;
  }
}

async function parseBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text !== '' && (response.headers.get('content-type') ?? '').includes('json')) {
    try {
      return JSON.parse(text);
    } catch {
      return text; // a truncated or mislabelled body: keep what came, for the error to show
    }
  }
  return text;
}

/** Slugs and ids are path segments: encoded, so a stray '/' or '?' cannot reach another route. */
const segment = (value: string): string => encodeURIComponent(value);

/** The server's entity tags are revisions in double quotes (ETag: "3"). */
function ifMatch(revision: number | undefined): Record<string, string> {
  return revision === undefined ? {} : { 'if-match': `"${revision}"` };
}

function entryQuery(query: EntryQuery | SearchQuery): RequestOptions['query'] {
  const { includeRetracted, ...rest } = query;
  // The server takes the strings 'true'/'false' only.
  return { ...rest, includeRetracted: includeRetracted === undefined ? undefined : String(includeRetracted) };
}

function queryString(query: RequestOptions['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.append(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}
