import { Logger } from '@nestjs/common';
import type { Position } from '@timeline/event-store';
import type { Projector } from '@timeline/projections';

const logger = new Logger('ReadYourWrites');

/**
 * A command answers only once the read model has applied its position, so the
 * caller's next query sees its own write. If the projector is stuck the write
 * is still durable; we answer anyway rather than hold the request forever.
 */
export async function awaitProjection(projector: Projector, position: Position, timeoutMs = 10_000): Promise<void> {
  const caughtUp = await projector.waitFor(position, timeoutMs);
  if (!caughtUp) logger.warn(`answered before the read model reached ${position}: the projector is behind`);
}
