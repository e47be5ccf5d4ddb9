import { CancelledError, UnavailableError } from '@kurrent/kurrentdb-client';
import { StoreUnavailableError, WrongExpectedVersionError } from '../event-store.errors';
import { toStoreError } from './kurrentdb-mapping';

/** A gRPC error as grpc-js raises it, which the client sometimes passes on unwrapped. */
const grpcError = (code: number, details: string) => Object.assign(new Error(`${code} ${details}`), { code, details });

describe('toStoreError', () => {
  it("maps the client's connection errors to StoreUnavailableError, keeping the cause", () => {
    for (const error of [new UnavailableError(), new CancelledError()]) {
      const mapped = toStoreError(error);
      expect(mapped).toBeInstanceOf(StoreUnavailableError);
      expect((mapped as StoreUnavailableError).cause).toBe(error);
    }
  });

  // Seen through the emulator: after a reconnect the client's first append fails
  // with grpc-js's raw UNAVAILABLE (14); without this fallback an outage was a 500.
  it('maps raw gRPC UNAVAILABLE (14), DEADLINE_EXCEEDED (4) and CANCELLED (1) the client did not wrap', () => {
    expect(toStoreError(grpcError(1, 'Call cancelled'))).toBeInstanceOf(StoreUnavailableError);
    expect(toStoreError(grpcError(14, 'No connection established'))).toBeInstanceOf(StoreUnavailableError);
    expect(toStoreError(grpcError(4, 'Deadline exceeded'))).toBeInstanceOf(StoreUnavailableError);
  });

  it('maps a failed cluster discovery', () => {
    expect(toStoreError(new Error('Failed to discover after 10 attempts'))).toBeInstanceOf(StoreUnavailableError);
  });

  it('passes other errors through unchanged, the port\'s own included', () => {
    const invalid = grpcError(3, 'Invalid argument');
    expect(toStoreError(invalid)).toBe(invalid);
    const wrong = new WrongExpectedVersionError('s', 0, 1);
    expect(toStoreError(wrong)).toBe(wrong);
  });
});
