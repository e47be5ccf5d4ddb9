import 'reflect-metadata';
import { ExecutionContextHost } from '@nestjs/core/internal';
import { ThrottlerException } from '@nestjs/throttler';
import { TimelineNotFoundError } from '@timeline/domain';
import { RequestValidationError } from '../common/request-validation';
import { LiveExceptionFilter, type LiveFailure } from './live-exception.filter';

/** The host Nest's WsProxy builds when a socket handler, its pipes or guards throw: (socket, payload, ack?, pattern). */
function wsHost(ack?: (answer: LiveFailure) => void): ExecutionContextHost {
  const socket = { id: 'socket-1', emit: jest.fn() };
  const host = new ExecutionContextHost(ack ? [socket, { timeline: 7 }, ack, 'subscribe'] : [socket, { timeline: 7 }, 'subscribe']);
  host.setType('ws');
  return host;
}

describe('LiveExceptionFilter', () => {
  const filter = new LiveExceptionFilter();

  it('answers a bad payload through the ack with code invalid, naming the field', () => {
    const ack = jest.fn();
    filter.catch(new RequestValidationError([{ field: 'timeline', problems: ['timeline must be a string'] }]), wsHost(ack));
    expect(ack).toHaveBeenCalledTimes(1);
    expect(ack).toHaveBeenCalledWith({ ok: false, error: { code: 'invalid', reason: 'invalid', message: 'timeline must be a string' } });
  });

  it("gives HTTP's code as the reason, beside the feed's older, coarser code", () => {
    const ack = jest.fn();
    filter.catch(new TimelineNotFoundError('no-such-story'), wsHost(ack));
    filter.catch(new ThrottlerException('too many subscribes'), wsHost(ack));
    expect(ack.mock.calls).toEqual([
      [{ ok: false, error: { code: 'not_found', reason: 'timeline_not_found', message: "timeline 'no-such-story' does not exist" } }],
      [{ ok: false, error: { code: 'rate_limited', reason: 'too_many_requests', message: 'too many subscribes' } }],
    ]);
  });

  it('answers anything unexpected with code internal, without its details', () => {
    const ack = jest.fn();
    const logged = jest.spyOn((filter as unknown as { logger: { error(m: string): void } }).logger, 'error').mockImplementation(() => undefined);
    filter.catch(new TypeError('secret internals'), wsHost(ack));
    expect(ack).toHaveBeenCalledWith({ ok: false, error: { code: 'internal', reason: 'internal', message: 'internal error' } });
    expect(logged).toHaveBeenCalledWith(expect.stringContaining('secret internals'));
  });

  it('sends nothing when the client passed no ack: there is nowhere to answer', () => {
    const host = wsHost();
    expect(() => filter.catch(new RequestValidationError([{ field: 'payload', problems: ['payload must be a JSON object'] }]), host)).not.toThrow();
    expect(host.switchToWs().getClient<{ emit: jest.Mock }>().emit).not.toHaveBeenCalled();
  });
});
