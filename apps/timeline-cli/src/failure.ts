import { StoreUnavailableError } from '@timeline/event-store';
import { RequestValidationError } from '../../timeline-service/src/common/request-validation';
import { InvalidConfigError } from '../../timeline-service/src/config/app-config';
import { CliError, EXIT, type ExitCode } from './runtime';

/**
 * What to tell the operator when a command fails, and the exit status. Known
 * failures get their own plain message; anything else is a bug or an
 * environment problem worth its stack trace (TIMELINE_DEBUG=1 shows it).
 */
export function failure(error: unknown): { message: string; exitCode: ExitCode } {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof InvalidConfigError) return { message: error.message, exitCode: EXIT.usage };
  if (error instanceof StoreUnavailableError) return { message: `${error.message}: check DATA_DIR or EVENTSTORE_CONNECTION_STRING`, exitCode: EXIT.usage };
  if (error instanceof RequestValidationError) return { message: `invalid seed file: ${error.message}`, exitCode: EXIT.usage };
  const message = error instanceof Error ? error.message : String(error);
  const stack = process.env.TIMELINE_DEBUG && error instanceof Error && error.stack ? `\n${error.stack}` : '';
  return { message: `${message}${stack}`, exitCode: EXIT.finding };
}
