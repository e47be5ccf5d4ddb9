import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { EventMetadata } from '@timeline/event-store';
import type { Request } from 'express';
import { randomUUID } from 'node:crypto';
import type { AuthenticatedRequest } from '../auth/access';
import { InvalidHeaderError } from './http-errors';

/** Who asked and in which request: becomes the metadata of every event a command appends. */
export interface CommandContext {
  recordedBy: string;
  correlationId: string;
  causationId: string | null;
}

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function contextFromRequest(request: Request): CommandContext {
  const header = request.headers['x-correlation-id'] ?? request.headers['x-request-id'];
  if (Array.isArray(header)) throw new InvalidHeaderError('x-correlation-id', 'must be given once');
  if (header !== undefined && !CORRELATION_ID.test(header)) {
    throw new InvalidHeaderError('x-correlation-id', 'must be 1 to 128 characters of A-Z a-z 0-9 . _ : -');
  }
  const correlationId = header ?? randomUUID();
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
