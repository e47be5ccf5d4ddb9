import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { EventMetadata } from '@timeline/event-store';
import type { Request } from 'express';
import type { AuthenticatedRequest } from '../auth/access';
import { assignedRequestId, ID_PATTERN, requestIdOf } from '../logging/request-ids';
import { InvalidHeaderError } from './http-errors';

/** Who asked and in which request: becomes the metadata of every event a command appends. */
export interface CommandContext {
  recordedBy: string;
  correlationId: string;
  causationId: string | null;
}

/**
 * The correlation id is the caller's x-correlation-id (refused with a 400 when
 * malformed: it would be written into the log of events for ever), or else the
 * request's id: its valid x-request-id, or the UUID generated for it, which the
 * response carries back in x-request-id (see logging/). So the events a request
 * appends, its log lines and its answer can always be matched up.
 */
export function contextFromRequest(request: Request): CommandContext {
  const header = request.headers['x-correlation-id'];
  if (Array.isArray(header)) throw new InvalidHeaderError('x-correlation-id', 'must be given once');
  if (header !== undefined && !ID_PATTERN.test(header)) {
    throw new InvalidHeaderError('x-correlation-id', 'must be 1 to 128 characters of A-Z a-z 0-9 . _ : -');
  }
  const correlationId = header ?? assignedRequestId(request) ?? requestIdOf(request);
  // The key's name, set by AccessGuard; only development mode (no keys) writes anonymously.
  const recordedBy = (request as AuthenticatedRequest).principal?.name ?? 'anonymous';
  return { recordedBy, correlationId, causationId: correlationId };
}

export const Command = createParamDecorator((_: unknown, ctx: ExecutionContext): CommandContext =>
  contextFromRequest(ctx.switchToHttp().getRequest<Request>()),
);

export function metadataOf(context: CommandContext): EventMetadata {
  return { ...context, schemaVersion: 1 };
}
