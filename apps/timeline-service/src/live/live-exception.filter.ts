import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { answerFor } from '../common/error-table';

/**
 * The `error.code`s the live feed sends, as its clients have known them since
 * its first version (docs/asyncapi.yaml lists them). Coarser than the error
 * table's codes, which come with them as `error.reason`.
 */
export const LIVE_CODES = ['invalid', 'not_found', 'resync_required', 'rate_limited', 'internal'] as const;
export type LiveCode = (typeof LIVE_CODES)[number];

/**
 * What a live client is answered when its message fails. `reason` is the error
 * table's code, the one HTTP answers in `code` for the same problem
 * (`timeline_not_found`, `invalid`, `too_many_requests`, ...; `resync_required`
 * is the feed's own); `code` is the feed's older, coarser code, kept so that
 * clients matching `not_found` or `rate_limited` go on working.
 */
export interface LiveFailure {
  ok: false;
  error: { code: LiveCode; reason: string; message: string };
}

/**
 * Whatever escapes a socket handler, its pipes, guards or interceptors becomes
 * the message's ack, `{ok: false, error: {code, reason, message}}`, from the
 * same error table as HTTP answers (common/error-table.ts): `invalid` for a bad
 * payload, `timeline_not_found` (code `not_found`) for an unknown timeline, and
 * `internal`, logged, for anything unexpected. Without this Nest answers only
 * with a bare `exception` event ("Internal server error") and the client's ack
 * never comes. A message sent without an ack is answered by nothing, as the
 * AsyncAPI document promises: there is no channel for the answer.
 */
@Catch()
export class LiveExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Live');

  catch(error: unknown, host: ArgumentsHost): void {
    const answer = answerFor(error);
    if (answer.logged) this.logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    // Nest calls a socket handler with (socket, payload, ack?, pattern): the ack is the one function.
    const ack = host.getArgs().find((arg): arg is (answer: LiveFailure) => void => typeof arg === 'function');
    // Every code the gateway can raise maps into LIVE_CODES (error-table.spec.ts checks it).
    ack?.({ ok: false, error: { code: answer.liveCode as LiveCode, reason: answer.code, message: answer.message } });
  }
}
