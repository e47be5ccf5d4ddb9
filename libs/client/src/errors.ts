import type { ApiErrorBody, FieldProblem } from './types';

/**
 * An HTTP answer outside 2xx. Carries the service's error body as typed
 * fields, so callers branch on `code` (stable) rather than on `message`
 * (for people) or on `status` alone (409 means three different things).
 */
export class TimelineApiError extends Error {
  override readonly name = 'TimelineApiError';
  /** The HTTP status, e.g. 412. */
  readonly status: number;
  /** e.g. invalid, timeline_not_found, entry_retracted, stale_revision, precondition_required, unauthorized. */
  readonly code: string;
  /** The fields at fault, for 400s; empty otherwise. */
  readonly errors: FieldProblem[];
  /** The body as received: the error shape, or the raw text when something else (a proxy) answered. */
  readonly body: ApiErrorBody | string | unknown;

  constructor(
    status: number,
    body: unknown,
    readonly method: string,
    readonly path: string,
  ) {
    const shaped = isErrorBody(body) ? body : null;
    super(shaped ? shaped.message : `${method} ${path} answered ${status}`);
    this.status = status;
    // A gateway's HTML 502 has no code of ours; derive one so `code` is always a string.
    this.code = shaped ? shaped.code : `http_${status}`;
    this.errors = shaped?.errors ?? [];
    this.body = body;
  }

  /** The problems reported for one field (e.g. 'occurredOn', 'changes.title'), or []. */
  problemsOf(field: string): string[] {
    return this.errors.find((e) => e.field === field)?.problems ?? [];
  }
}

export function isErrorBody(body: unknown): body is ApiErrorBody {
  if (body === null || typeof body !== 'object') return false;
  const b = body as Record<string, unknown>;
  return typeof b.statusCode === 'number' && typeof b.code === 'string' && typeof b.message === 'string';
}
