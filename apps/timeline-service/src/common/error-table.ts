import { HttpException } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import type { FieldProblem } from '@timeline/contracts';

/** How the service answers one error code, over HTTP and on the live feed. */
interface ErrorRule {
  /** The HTTP status. */
  readonly status: number;
  /**
   * The live feed's `error.code` where it is coarser than the table's code: the
   * feed's first clients match these (`not_found`, `rate_limited`, `internal`),
   * so they stay, and the table's code goes in `error.reason`. Otherwise the
   * live code is the table's code, or `internal` for any 5xx.
   */
  readonly live?: string;
  /** What clients are told, when not the error's own message. */
  readonly message?: (error: Error) => string;
  /** Headers the HTTP answer carries. */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * The one table of errors, keyed by the code each typed error carries
 * (DomainError's `code`, and the same field on the edge's own errors:
 * RequestValidationError, InvalidHeaderError, UnauthenticatedError, ...).
 * The HTTP filter (DomainErrorFilter) and the socket filter
 * (LiveExceptionFilter) both answer from it, so the same problem has the same
 * code on both channels. A code not here is not ours: it is answered as
 * `internal` (or, for Nest's own HttpExceptions, by their status).
 */
export const ERROR_TABLE = {
  invalid: { status: 400 },
  unauthorized: { status: 401, headers: { 'WWW-Authenticate': 'Bearer realm="timeline"' } },
  forbidden: { status: 403 },
  timeline_not_found: { status: 404, live: 'not_found' },
  entry_not_found: { status: 404, live: 'not_found' },
  timeline_exists: { status: 409 },
  entry_id_conflict: { status: 409 },
  entry_retracted: { status: 409 },
  stale_revision: { status: 412 },
  payload_too_large: { status: 413 },
  precondition_required: { status: 428 },
  too_many_requests: { status: 429, live: 'rate_limited' },
  // Never the error's own message: it may say what only the log should.
  internal: { status: 500, message: () => 'internal error' },
  // A stream that cannot be folded: the log is damaged, not the request (logged, as every 500 is).
  corrupt_log: { status: 500 },
  store_unavailable: { status: 503, message: (e) => `the event store is unavailable, nothing was recorded: ${e.message}` },
} as const satisfies Record<string, ErrorRule>;

export type ErrorCode = keyof typeof ERROR_TABLE;

/** An error in the table's terms: what both channels answer. */
export interface ErrorAnswer {
  status: number;
  /** The table's code: HTTP's `code`, the live feed's `error.reason`. */
  code: string;
  /** The live feed's `error.code` (see ErrorRule.live). */
  liveCode: string;
  message: string;
  /** For `invalid`: each field at fault. */
  problems?: FieldProblem[];
  headers?: Readonly<Record<string, string>>;
  /** Our fault, not the client's: logged with its stack. Not a 503: an outage is expected, and /health reports it. */
  logged: boolean;
}

/** The answer, on either channel, to whatever a request or a socket message threw. */
export function answerFor(error: unknown): ErrorAnswer {
  const code = codeOf(error);
  if (code) {
    const rule: ErrorRule = ERROR_TABLE[code];
    return answer(code, rule.message?.(error as Error) ?? (error as Error).message, problemsOf(code, error as Error));
  }
  if (error instanceof HttpException) return nestAnswer(error);
  return answer('internal', ERROR_TABLE.internal.message());
}

function answer(code: string, message: string, problems?: FieldProblem[], status?: number): ErrorAnswer {
  const rule: ErrorRule | undefined = (ERROR_TABLE as Record<string, ErrorRule>)[code];
  const answered = status ?? rule?.status ?? 500;
  return {
    status: answered,
    code,
    liveCode: rule?.live ?? (answered >= 500 ? 'internal' : code),
    message,
    ...(problems ? { problems } : {}),
    ...(rule?.headers ? { headers: rule.headers } : {}),
    logged: answered >= 500 && answered !== 503,
  };
}

function codeOf(error: unknown): ErrorCode | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  // Only our own codes: a Node or SQLite error's `code` (ENOENT, SQLITE_BUSY) is not one.
  return typeof code === 'string' && Object.hasOwn(ERROR_TABLE, code) ? (code as ErrorCode) : undefined;
}

/** An `invalid` error names its fields: all of them (`problems`), or the one (`field`) its message is about. */
function problemsOf(code: ErrorCode, error: Error): FieldProblem[] | undefined {
  if (code !== 'invalid') return undefined;
  const { problems, field } = error as { problems?: unknown; field?: unknown };
  if (Array.isArray(problems)) return problems as FieldProblem[];
  return typeof field === 'string' ? [{ field, problems: [error.message] }] : undefined;
}

/** Nest's own exceptions: the body parser's (our validation never throws HttpException), the throttler's, an unknown route's. */
function nestAnswer(error: HttpException): ErrorAnswer {
  const status = error.getStatus();
  if (status === 400) {
    const message = `body is not valid JSON: ${messageOf(error)}`;
    return answer('invalid', message, [{ field: 'body', problems: [message] }]);
  }
  if (status === 413) {
    const message = 'body is too large: at most 256kb of JSON';
    return answer('payload_too_large', message, [{ field: 'body', problems: [message] }]);
  }
  // too_many_requests (429) is in the table; a status that is not (an unknown route's 404) gets a code named after it.
  return answer((STATUS_CODES[status] ?? 'error').toLowerCase().replace(/[^a-z]+/g, '_'), messageOf(error), undefined, status);
}

function messageOf(error: HttpException): string {
  const response = error.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  return Array.isArray(message) ? message.join('; ') : typeof message === 'string' ? message : error.message;
}
