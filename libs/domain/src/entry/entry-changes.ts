import type { EntryChanges, EntryDetails } from './entry.types';

/** The details after a correction: null removes an optional field, anything else replaces it. */
export function applyChanges<D extends EntryDetails>(details: D, changes: EntryChanges): D {
  // Object.assign, not a spread: properties set on a spread copy are slow on Node 20 (timeline.projection.ts says why).
  const next = Object.assign({}, details) as Record<string, unknown>;
  for (const [field, value] of Object.entries(changes)) {
    if (value === null) delete next[field];
    else if (value !== undefined) next[field] = value;
  }
  return next as D;
}
