/**
 * Small helpers for the HTTP e2e tests, on @timeline/client: a request
 * function that always returns the status, headers and parsed body (the
 * client's untyped `request()`, which never throws on a status), valid
 * request bodies per entry kind, and assertions for the error shape
 * {statusCode, error, code, message, errors?: [{field, problems}]}.
 *
 * Specs that want the typed methods take `clientAt(url)` or `api.client`.
 */
import { TimelineClient, type ApiResponse, type EntryWritten, type RequestOptions as ClientRequestOptions } from '@timeline/client';

/* eslint-disable @typescript-eslint/no-explicit-any */

export type Reply<T = any> = ApiResponse<T>;

export type RequestOptions = Pick<ClientRequestOptions, 'json' | 'raw' | 'headers'>;

export interface Api {
  /** The typed client the helpers are built on. */
  readonly client: TimelineClient;
  request<T = any>(method: string, path: string, options?: RequestOptions): Promise<Reply<T>>;
  get<T = any>(path: string, headers?: Record<string, string>): Promise<Reply<T>>;
  post<T = any>(path: string, json?: unknown, headers?: Record<string, string>): Promise<Reply<T>>;
  patch<T = any>(path: string, json?: unknown, headers?: Record<string, string>): Promise<Reply<T>>;
  /** GET /health's `head`: the position of the last event in the log, or null. */
  head(): Promise<string | null>;
}

/** A typed client of the service at `baseUrl`. */
export function clientAt(baseUrl: string, apiKey?: string): TimelineClient {
  return new TimelineClient({ baseUrl, apiKey });
}

export function apiAt(baseUrl: string): Api {
  const client = clientAt(baseUrl);
  const request = <T>(method: string, path: string, options: RequestOptions = {}): Promise<Reply<T>> => client.request<T>(method, path, options);
  return {
    client,
    request,
    get: (path, headers) => request('GET', path, { headers }),
    post: (path, json, headers) => request('POST', path, { json, headers }),
    patch: (path, json, headers) => request('PATCH', path, { json, headers }),
    async head() {
      return (await client.health()).head;
    },
  };
}

// ---------------------------------------------------------------------------
// Unique names and valid bodies

let counter = 0;

/** A slug no other test uses: prefix-<n>-<random>. */
export function uniqueSlug(prefix = 't'): string {
  counter += 1;
  return `${prefix}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

export type Body = Record<string, any>;

/** A valid announcement, with a pledge: the one the API docs show. */
export function announcement(overrides: Body = {}): Body {
  return { ...structuredClone(RECORD_EXAMPLES.announcement.value), ...overrides }; // a copy: tests may change it
}

/** A valid signing, with a term and a place. */
export function signing(overrides: Body = {}): Body {
  return {
    kind: 'signing',
    occurredOn: '2024-06-13',
    title: 'Japan and Ukraine sign a ten-year support accord',
    actors: ['JP', 'UA'],
    parties: ['JP', 'UA'],
    instrument: 'Accord on Support for Ukraine and Cooperation',
    place: 'Apulia, Italy',
    termYears: 10,
    ...overrides,
  };
}

/** A valid delivery, with items, a value and a channel: the one the API docs show. */
export function delivery(overrides: Body = {}): Body {
  return { ...structuredClone(RECORD_EXAMPLES.delivery.value), ...overrides };
}

export const builderOf = { announcement, signing, delivery } as const;

// ---------------------------------------------------------------------------
// Setup shortcuts that assert as they go

/** POST /timelines with a fresh slug; returns the slug. */
export async function openTimeline(api: Api, prefix = 't', title = 'A timeline'): Promise<string> {
  const slug = uniqueSlug(prefix);
  const reply = await api.post('/timelines', { slug, title });
  if (reply.status !== 201) throw new Error(`opening ${slug} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
  return slug;
}

export type Written = EntryWritten;

/** POST /timelines/:slug/entries, expecting 201. */
export async function recordEntry(api: Api, slug: string, body: Body): Promise<Written> {
  const reply = await api.post<Written>(`/timelines/${slug}/entries`, body);
  if (reply.status !== 201) throw new Error(`recording into ${slug} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
  return reply.body;
}

// ---------------------------------------------------------------------------
// Error shape

// The documented error shape, as the client types it (test/client.e2e-spec.ts checks it against the server's).
import type { ApiErrorBody as ErrorBody, FieldProblem } from '@timeline/client';
import { RECORD_EXAMPLES } from '../../apps/timeline-service/src/openapi/response-schemas';
export type { ApiErrorBody as ErrorBody, FieldProblem } from '@timeline/client';

/** The reply is an error of the documented shape with this status (and code, when given). */
export function expectError(reply: Reply, status: number, code?: string): ErrorBody {
  expect({ status: reply.status, body: reply.body }).toMatchObject({
    status,
    body: {
      statusCode: status,
      error: expect.any(String),
      code: code ?? expect.any(String),
      message: expect.any(String),
    },
  });
  return reply.body as ErrorBody;
}

/**
 * The reply is a 400 (or the given status) whose `errors` names `field`, with
 * at least one problem whose message names the field too.
 */
export function expectFieldError(reply: Reply, field: string, status = 400): FieldProblem {
  const body = expectError(reply, status);
  const fields = (body.errors ?? []).map((e) => e.field);
  expect({ status: reply.status, fields }).toEqual({ status, fields: expect.arrayContaining([field]) });
  const problem = body.errors!.find((e) => e.field === field)!;
  expect(problem.problems.length).toBeGreaterThan(0);
  expect(problem.problems.join(' | ')).toContain(field);
  return problem;
}
