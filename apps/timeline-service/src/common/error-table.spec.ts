import 'reflect-metadata';
import { NotFoundException, PayloadTooLargeException, BadRequestException } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import * as domain from '@timeline/domain';
import {
  DomainError,
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
import { ForbiddenRoleError, UnauthenticatedError } from '../auth/access';
import { LIVE_CODES } from '../live/live-exception.filter';
import { answerFor, ERROR_TABLE } from './error-table';
import { InvalidHeaderError, PreconditionRequiredError } from './http-errors';
import { RequestValidationError } from './request-validation';

describe('the error table', () => {
  // status, the table's code (HTTP's code, the feed's reason), the feed's code, the field problems of an invalid one
  it.each([
    ['a failed validation', new RequestValidationError([{ field: 'title', problems: ['title must be a string'] }]), 400, 'invalid', 'invalid', [{ field: 'title', problems: ['title must be a string'] }]],
    ['a broken domain rule', new InvalidCommandError('relatedTo', 'names no entry'), 400, 'invalid', 'invalid', [{ field: 'relatedTo', problems: ['relatedTo names no entry'] }]],
    ['a forged cursor', new InvalidCursorError(), 400, 'invalid', 'invalid', [{ field: 'cursor', problems: ['cursor must be the nextCursor of a previous page'] }]],
    ['a malformed header', new InvalidHeaderError('If-Match', 'is wrong'), 400, 'invalid', 'invalid', [{ field: 'If-Match', problems: ['header If-Match is wrong'] }]],
    ['no token', new UnauthenticatedError('a token is needed'), 401, 'unauthorized', 'unauthorized', undefined],
    ['a role too small', new ForbiddenRoleError({ name: 'desk', role: 'reader' }, 'write'), 403, 'forbidden', 'forbidden', undefined],
    ['an unknown timeline', new TimelineNotFoundError('nowhere'), 404, 'timeline_not_found', 'not_found', undefined],
    ['an unknown entry', new EntryNotFoundError('e-1'), 404, 'entry_not_found', 'not_found', undefined],
    ['a timeline opened twice', new TimelineAlreadyExistsError('story'), 409, 'timeline_exists', 'timeline_exists', undefined],
    ['an entryId taken', new EntryIdConflictError('e-1'), 409, 'entry_id_conflict', 'entry_id_conflict', undefined],
    ['a retracted entry', new EntryRetractedError('e-1'), 409, 'entry_retracted', 'entry_retracted', undefined],
    ['a stale If-Match', new StaleRevisionError('e-1', 1, 2), 412, 'stale_revision', 'stale_revision', undefined],
    ['no If-Match', new PreconditionRequiredError('If-Match'), 428, 'precondition_required', 'precondition_required', undefined],
    ['too many requests', new ThrottlerException('at most 3 per minute'), 429, 'too_many_requests', 'rate_limited', undefined],
    ['an outage', new StoreUnavailableError('disk full'), 503, 'store_unavailable', 'internal', undefined],
  ])('%s: %s', (_what, error, status, code, liveCode, problems) => {
    const answer = answerFor(error);
    expect(answer).toMatchObject({ status, code, liveCode });
    expect(answer.problems).toEqual(problems);
    expect(answer.logged).toBe(false);
  });

  it('tells clients what failed, and an outage that nothing was recorded', () => {
    expect(answerFor(new TimelineNotFoundError('nowhere')).message).toBe("timeline 'nowhere' does not exist");
    expect(answerFor(new StoreUnavailableError('disk full')).message).toBe('the event store is unavailable, nothing was recorded: disk full');
  });

  it('asks for a token with a 401', () => {
    expect(answerFor(new UnauthenticatedError('x')).headers).toEqual({ 'WWW-Authenticate': 'Bearer realm="timeline"' });
    expect(answerFor(new ForbiddenRoleError({ name: 'desk', role: 'reader' }, 'write')).headers).toBeUndefined();
  });

  it('answers anything else as internal, without its details, and logs it', () => {
    for (const error of [new TypeError('secret internals'), Object.assign(new Error('no such file'), { code: 'ENOENT' }), 'a string']) {
      expect(answerFor(error)).toEqual({ status: 500, code: 'internal', liveCode: 'internal', message: 'internal error', logged: true });
    }
  });

  it("answers Nest's own exceptions by their status: the body parser's, an unknown route's", () => {
    expect(answerFor(new BadRequestException('Unexpected token } in JSON'))).toMatchObject({
      status: 400,
      code: 'invalid',
      problems: [{ field: 'body', problems: ['body is not valid JSON: Unexpected token } in JSON'] }],
    });
    expect(answerFor(new PayloadTooLargeException())).toMatchObject({ status: 413, code: 'payload_too_large', problems: [{ field: 'body', problems: [expect.stringContaining('256kb')] }] });
    expect(answerFor(new NotFoundException('Cannot GET /nowhere'))).toMatchObject({ status: 404, code: 'not_found', message: 'Cannot GET /nowhere', logged: false });
  });

  it('has a rule for the code of every DomainError', () => {
    const classes = (Object.values(domain) as unknown[]).filter((v): v is Function => typeof v === 'function' && v.prototype instanceof DomainError);
    expect(classes.length).toBeGreaterThanOrEqual(7);
    for (const type of classes) {
      const error = Reflect.construct(type, ['x', 'y', 0, 1]) as DomainError;
      expect(Object.keys(ERROR_TABLE)).toContain(error.code);
    }
  });

  it('maps every error the live gateway raises into the live codes', () => {
    for (const error of [new RequestValidationError([]), new TimelineNotFoundError('x'), new ThrottlerException('x'), new Error('x')]) {
      expect(LIVE_CODES).toContain(answerFor(error).liveCode);
    }
  });
});
