import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';

/** What a request id or a correlation id may be: what fits in a log line, a header and event metadata as is. */
export const ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export const REQUEST_ID_HEADER = 'x-request-id';
export const CORRELATION_ID_HEADER = 'x-correlation-id';

/** The value of a header given exactly once, or undefined (absent, or repeated). */
function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * The request's id: the caller's x-request-id when it is a valid id (given
 * once, 1 to 128 of A-Z a-z 0-9 . _ : -), so that a proxy's or a client's id
 * follows the request through our logs; otherwise a new UUID. Never refuses
 * a request: an unusable header is replaced, not echoed.
 */
export function requestIdOf(request: IncomingMessage): string {
  const header = single(request.headers, REQUEST_ID_HEADER);
  return header !== undefined && ID_PATTERN.test(header) ? header : randomUUID();
}

/** The id pino-http gave the request (see LoggingModule), when there is one. */
export function assignedRequestId(request: IncomingMessage): string | undefined {
  const id = (request as IncomingMessage & { id?: unknown }).id;
  return typeof id === 'string' && ID_PATTERN.test(id) ? id : undefined;
}

/**
 * The correlation id for logs: a valid x-correlation-id, else the request id.
 * (Commands refuse an invalid x-correlation-id with a 400: see common/command-context.ts.)
 */
export function correlationIdForLogs(request: IncomingMessage): string | undefined {
  const header = single(request.headers, CORRELATION_ID_HEADER);
  return header !== undefined && ID_PATTERN.test(header) ? header : assignedRequestId(request);
}
