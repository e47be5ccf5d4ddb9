import type { NewEvent, RecordedEvent } from '@timeline/event-store';
import { eventHash } from './event-hash';

/**
 * Links new events into their stream's chain: each carries `prevHash`, the
 * hash of the event before it in the stream (null for the first), and `hash`,
 * its own. prevHash is taken from the previous event's *stored* hash, never
 * recomputed from its content, so an event altered in the file cannot be
 * laundered into the chain by the next append.
 */
export function chainEvents(history: readonly RecordedEvent[], events: readonly NewEvent[]): NewEvent[] {
  let prevHash = history.length === 0 ? null : storedHash(history[history.length - 1]);
  return events.map((event) => {
    // Object.assign, not spreads with more properties: those are slow on Node 20 (see timeline.projection.ts).
    const metadata = Object.assign({}, event.metadata, { prevHash });
    const hash = eventHash({ type: event.type, data: event.data, metadata });
    prevHash = hash;
    return Object.assign({}, event, { metadata: Object.assign({}, metadata, { hash }) });
  });
}

function storedHash(event: RecordedEvent): string | null {
  return typeof event.metadata.hash === 'string' ? event.metadata.hash : null;
}
