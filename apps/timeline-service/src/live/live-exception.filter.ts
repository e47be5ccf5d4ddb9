import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { toErrorBody } from '../common/domain-error.filter';

/** What a live client is answered when its message fails: the HTTP error table's code, or `internal`. */
export interface LiveFailure {
  ok: false;
  error: { code: string; message: string };
}

/**
 * Whatever escapes a socket handler, its pipes, guards or interceptors becomes
 * the message's ack, `{ok: false, error: {code, message}}`, with the same code
 * an HTTP request would get (`invalid` for a bad payload), and `internal`,
 * logged, for anything unexpected. Without this Nest answers only with a bare
 * `exception` event ("Internal server error") and the client's ack never comes.
 * A message sent without an ack is answered by nothing, as the AsyncAPI
 * document promises: there is no channel for the answer.
 */
@Catch()
export class LiveExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Live');

  catch(error: unknown, host: ArgumentsHost): void {
    const answer = this.answerFor(error);
    // Nest calls a socket handler with (socket, payload, ack?, pattern): the ack is the one function.
    const ack = host.getArgs().find((arg): arg is (answer: LiveFailure) => void => typeof arg === 'function');
    ack?.(answer);
  }

  private answerFor(error: unknown): LiveFailure {
    const body = toErrorBody(error);
    if (body.statusCode < 500) return { ok: false, error: { code: body.code, message: body.message } };
    this.logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    return { ok: false, error: { code: 'internal', message: 'internal error' } };
  }
}
