import canonicalize from 'canonicalize';
import { createHash } from 'node:crypto';
import type { EventMetadata } from '@timeline/event-store';

/**
 * The metadata a hash covers. `hash` itself is not in it (it is the result),
 * and neither is anything the store adds on its own (position, recordedAt):
 * the hash describes what the writer wrote.
 */
export const AUDITED_METADATA = ['recordedBy', 'correlationId', 'causationId', 'schemaVersion', 'prevHash'] as const;

export interface HashableEvent {
  type: string;
  data: Record<string, unknown>;
  metadata: EventMetadata;
}

/**
 * SHA-256 (hex) of an event's canonical JSON: RFC 8785 (sorted keys, fixed
 * number and string forms), so the same event hashes the same in any process,
 * language or store.
 */
export function eventHash(event: HashableEvent): string {
  const metadata: Record<string, unknown> = {};
  for (const key of AUDITED_METADATA) if (event.metadata[key] !== undefined) metadata[key] = event.metadata[key];
  const canonical = canonicalize({ type: event.type, data: event.data, metadata });
  if (canonical === undefined) throw new TypeError('event cannot be put in canonical JSON');
  return createHash('sha256').update(canonical).digest('hex');
}
