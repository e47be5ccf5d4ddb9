import { Catch, HttpException, HttpStatus, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import {
  CorruptLogError,
  EntryIdConflictError,
  EntryNotFoundError,
  EntryRetractedError,
  InvalidCommandError,
  StaleRevisionError,
  TimelineAlreadyExistsError,
  TimelineNotFoundError,
} from '@timeline/domain';
import { StoreUnavailableError } from '@timeline/event-store';
import { InvalidCursorError } from '@timeline/projections';
import type { Response } from 'express';
import { STATUS_CODES } from 'node:http';
import { ForbiddenRoleError, UnauthenticatedError } from '../auth/access';
import { InvalidHeaderError, PreconditionRequiredError } from './http-errors';
import { RequestValidationError, type FieldProblem } from './request-validation';

export interface ErrorBody {
  statusCode: number;
  error: string;
  /** Stable, machine-readable: invalid, timeline_not_found, stale_revision, ... */
  code: string;
  message: string;
  errors?: FieldProblem[];
}

/**
 * The one place where errors become HTTP answers. Controllers and services
 * throw typed errors and never catch them to re-throw.
 */
export function toErrorBody(error: unknown): ErrorBody {
  const body = (status: number, code: string, message: string, errors?: FieldProblem[]): ErrorBody => ({
    statusCode: status,
    error: STATUS_CODES[status] ?? 'Error',
    code,
    message,
    ...(errors ? { errors } : {}),
  });
  if (error instanceof RequestValidationError) return body(400, 'invalid', error.message, error.problems);
  if (error instanceof InvalidCommandError) {
    return body(400, 'invalid', error.message, [{ field: error.field, problems: [error.message] }]);
  }
  if (error instanceof InvalidCursorError) return body(400, 'invalid', error.message, [{ field: 'cursor', problems: [error.message] }]);
  if (error instanceof InvalidHeaderError) {
    return body(400, 'invalid', error.message, [{ field: error.header, problems: [error.message] }]);
  }
  if (error instanceof TimelineNotFoundError || error instanceof EntryNotFoundError) return body(404, error.code, error.message);
  if (error instanceof TimelineAlreadyExistsError || error instanceof EntryIdConflictError || error instanceof EntryRetractedError) {
    return body(409, error.code, error.message);
  }
  if (error instanceof StaleRevisionError) return body(412, error.code, error.message);
  if (error instanceof PreconditionRequiredError) return body(428, 'precondition_required', error.message);
  if (error instanceof UnauthenticatedError) return body(401, 'unauthorized', error.message);
  if (error instanceof ForbiddenRoleError) return body(403, 'forbidden', error.message);
  if (error instanceof StoreUnavailableError) {
    return body(503, 'store_unavailable', `the event store is unavailable, nothing was recorded: ${error.message}`);
  }
  // A stream that cannot be folded: the log is damaged, not the request (logged, as every 500 is).
  if (error instanceof CorruptLogError) return body(500, error.code, error.message);
  if (error instanceof HttpException) {
    const status = error.getStatus();
    // Our own validation never throws HttpException, so a 400 or 413 here comes from parsing the body.
    if (status === 400) {
      const message = `body is not valid JSON: ${messageOf(error)}`;
      return body(400, 'invalid', message, [{ field: 'body', problems: [message] }]);
    }
    if (status === 413) {
      const message = 'body is too large: at most 256kb of JSON';
      return body(413, 'payload_too_large', message, [{ field: 'body', problems: [message] }]);
    }
    return body(status, httpCode(status), messageOf(error));
  }
  return body(500, 'internal', 'internal error');
}

@Catch()
export class DomainErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(error: unknown, host: ArgumentsHost): void {
    const body = toErrorBody(error);
    if (body.statusCode >= 500 && body.statusCode !== HttpStatus.SERVICE_UNAVAILABLE) {
      this.logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    }
    const response = host.switchToHttp().getResponse<Response>();
    if (body.statusCode === 401) response.setHeader('WWW-Authenticate', 'Bearer realm="timeline"');
    response.status(body.statusCode).json(body);
  }
}

function httpCode(status: number): string {
  return (STATUS_CODES[status] ?? 'error').toLowerCase().replace(/[^a-z]+/g, '_');
}

function messageOf(error: HttpException): string {
  const response = error.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  return Array.isArray(message) ? message.join('; ') : typeof message === 'string' ? message : error.message;
}
