import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { ApiErrorBody } from '@timeline/contracts';
import type { Response } from 'express';
import { STATUS_CODES } from 'node:http';
import { answerFor } from './error-table';

/**
 * Errors become HTTP answers here, from the one error table (error-table.ts).
 * Controllers and services throw typed errors and never catch them to re-throw.
 */
@Catch()
export class DomainErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(error: unknown, host: ArgumentsHost): void {
    const answer = answerFor(error);
    if (answer.logged) this.logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    const response = host.switchToHttp().getResponse<Response>();
    for (const [name, value] of Object.entries(answer.headers ?? {})) response.setHeader(name, value);
    const body: ApiErrorBody = {
      statusCode: answer.status,
      error: STATUS_CODES[answer.status] ?? 'Error',
      code: answer.code,
      message: answer.message,
      ...(answer.problems ? { errors: answer.problems } : {}),
    };
    response.status(answer.status).json(body);
  }
}
