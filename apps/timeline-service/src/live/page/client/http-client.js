// Generated from libs/client/src/http-client.ts by libs/client/build-browser.ts: do not edit; run
// node -r @swc-node/register libs/client/build-browser.ts
import { TimelineApiError } from './errors.js';
/**
 * The timeline service over HTTP, one method per route. Each typed method
 * resolves with the parsed answer or rejects with a TimelineApiError carrying
 * the service's status, code and field errors. `request()` is the same
 * transport without the typing, for anything else.
 *
 * Uses fetch only, so it runs unchanged in Node 20 and in browsers.
 */
export class TimelineClient {
    baseUrl;
    fetchImpl;
    defaultHeaders;
    constructor(options = {}) {
        this.baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '');
        // Bound: a browser's fetch called as a method of another object throws "Illegal invocation".
        this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
        this.defaultHeaders = { ...(options.headers ?? {}) };
        if (options.apiKey !== undefined)
            this.defaultHeaders.authorization = `Bearer ${options.apiKey}`;
    }
    // ---- timelines
    /** `POST /timelines`: 201, or 409 timeline_exists. */
    openTimeline(timeline) {
        return this.call('POST', '/timelines', { json: timeline });
    }
    /** `GET /timelines`. */
    async listTimelines() {
        return (await this.call('GET', '/timelines')).items;
    }
    /** `GET /timelines/:slug`: 404 timeline_not_found. */
    getTimeline(slug) {
        return this.call('GET', `/timelines/${segment(slug)}`);
    }
    // ---- entries
    /**
     * `POST /timelines/:slug/entries`. Give `entryId` (a lowercase UUID) to make
     * retries safe: the same body again answers the same, and records nothing.
     */
    recordEntry(slug, entry) {
        return this.call('POST', `/timelines/${segment(slug)}/entries`, { json: entry });
    }
    /** `GET /timelines/:slug/entries`: one page; follow `nextCursor` (or use `allEntries`). */
    listEntries(slug, query = {}) {
        return this.call('GET', `/timelines/${segment(slug)}/entries`, { query: entryQuery(query) });
    }
    /** Every page of a listing, one at a time. */
    async *entryPages(slug, query = {}) {
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
    async allEntries(slug, query = {}) {
        const items = [];
        let position;
        for await (const page of this.entryPages(slug, { limit: 500, ...query })) {
            if (position === undefined)
                position = page.position;
            items.push(...page.items);
        }
        return { items, position: position ?? null };
    }
    /** `GET /entries/:id`: 404 entry_not_found. Its `revision` is what `If-Match` takes. */
    getEntry(entryId) {
        return this.call('GET', `/entries/${segment(entryId)}`);
    }
    /**
     * `PATCH /entries/:id` with `If-Match: "<revision>"`: 412 stale_revision when
     * someone else changed it since, 409 entry_retracted.
     */
    correctEntry(entryId, { changes, reason, revision }) {
        return this.call('PATCH', `/entries/${segment(entryId)}`, { json: { changes, reason }, headers: ifMatch(revision) });
    }
    /** `POST /entries/:id/retraction`: 409 entry_retracted when it already is; 412 with a stale `revision`. */
    retractEntry(entryId, { reason, revision }) {
        return this.call('POST', `/entries/${segment(entryId)}/retraction`, { json: { reason }, headers: ifMatch(revision) });
    }
    // ---- audit (the audit role, once keys are configured)
    /** `GET /entries/:id/history`: every event of the entry, oldest first. */
    async entryHistory(entryId) {
        return (await this.call('GET', `/entries/${segment(entryId)}/history`)).items;
    }
    /** `GET /timelines/:slug/entries?asOf=`: the timeline as it stood at an instant (with its offset) or a position. */
    entriesAsOf(slug, asOf, query = {}) {
        return this.listEntries(slug, { ...query, asOf: asOf instanceof Date ? asOf.toISOString() : asOf });
    }
    /** `GET /events`: a page of the global log after `after`. */
    events(options = {}) {
        return this.call('GET', '/events', { query: { after: options.after, limit: options.limit } });
    }
    /**
     * `GET /events?format=ndjson`: the whole log (or from `after`), one event at
     * a time as the server streams it, without holding it in memory.
     */
    async *eventStream(options = {}) {
        const path = '/events';
        const response = await this.send('GET', path, { query: { format: 'ndjson', after: options.after }, signal: options.signal });
        if (!response.ok)
            throw new TimelineApiError(response.status, await parseBody(response), 'GET', path);
        if (!response.body)
            return;
        const decoder = new TextDecoder();
        let buffered = '';
        const reader = response.body.getReader();
        try {
            for (;;) {
                const { done, value } = await reader.read();
                buffered += done ? decoder.decode() : decoder.decode(value, { stream: true });
                let newline;
                while ((newline = buffered.indexOf('\n')) >= 0) {
                    const line = buffered.slice(0, newline);
                    buffered = buffered.slice(newline + 1);
                    if (line.trim() !== '')
                        yield JSON.parse(line);
                }
                if (done)
                    break;
            }
            if (buffered.trim() !== '')
                yield JSON.parse(buffered);
        }
        finally {
            // Stopping early (break in for await) must not leave the server streaming into a dead socket.
            await reader.cancel().catch(() => undefined);
        }
    }
    /** `GET /timelines/:slug/export?format=timelinejs`: ready to embed in TimelineJS. */
    exportTimelineJs(slug) {
        return this.call('GET', `/timelines/${segment(slug)}/export`, { query: { format: 'timelinejs' } });
    }
    // ---- operations
    /** `GET /health`: 200 even when degraded; read `status` and `problems`. */
    health() {
        return this.call('GET', '/health');
    }
    // ---- transport
    /** Any request, answered whatever its status: the typed methods are built on it. */
    async request(method, path, options = {}) {
        const response = await this.send(method, path, options);
        return { status: response.status, headers: response.headers, body: (await parseBody(response)) };
    }
    async send(method, path, options) {
        const headers = { ...this.defaultHeaders, ...(options.headers ?? {}) };
        let body;
        if (options.raw !== undefined)
            body = options.raw;
        else if (options.json !== undefined)
            body = JSON.stringify(options.json);
        if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
            headers['content-type'] = 'application/json';
        }
        return this.fetchImpl(this.baseUrl + path + queryString(options.query), { method, headers, body, signal: options.signal });
    }
    async call(method, path, options = {}) {
        const response = await this.request(method, path, options);
        if (response.status < 200 || response.status > 299)
            throw new TimelineApiError(response.status, response.body, method, path);
        return response.body;
    }
}
async function parseBody(response) {
    const text = await response.text();
    if (text !== '' && (response.headers.get('content-type') ?? '').includes('json')) {
        try {
            return JSON.parse(text);
        }
        catch {
            return text; // a truncated or mislabelled body: keep what came, for the error to show
        }
    }
    return text;
}
/** Slugs and ids are path segments: encoded, so a stray '/' or '?' cannot reach another route. */
const segment = (value) => encodeURIComponent(value);
/** The server's entity tags are revisions in double quotes (ETag: "3"). */
function ifMatch(revision) {
    return revision === undefined ? {} : { 'if-match': `"${revision}"` };
}
function entryQuery(query) {
    const { includeRetracted, ...rest } = query;
    // The server takes the strings 'true'/'false' only.
    return { ...rest, includeRetracted: includeRetracted === undefined ? undefined : String(includeRetracted) };
}
function queryString(query) {
    if (!query)
        return '';
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query))
        if (value !== undefined)
            params.append(key, String(value));
    const text = params.toString();
    return text ? `?${text}` : '';
}
