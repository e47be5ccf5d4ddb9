import { ThrottlerException, type ThrottlerStorage } from '@nestjs/throttler';

/**
 * Counts one subscribe (a socket's `subscribe`, or an SSE stream opened) for
 * this client, an API key's name or else its address, in one budget across
 * both transports; past RATE_LIMIT_SUBSCRIBES_PER_MINUTE it throws the
 * exception the HTTP write limit throws: 429 too_many_requests over HTTP,
 * `rate_limited` on the feed.
 */
export async function countSubscribe(throttle: ThrottlerStorage, client: string, perMinute: number): Promise<void> {
  const { isBlocked } = await throttle.increment(`subscribe:${client}`, 60_000, perMinute, 0, 'subscribes');
  if (isBlocked) throw new ThrottlerException(`too many subscribes: at most ${perMinute} per minute for this client`);
}
