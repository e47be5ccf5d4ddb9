import type { EntryChanges, EntryDetails } from './entry.types';

/** The details after a correction: null removes an optional field, anything else replaces it. */
export function applyChanges<D extends EntryDetails>(details: D, changes: EntryChanges): D {
  const next: Record<string, unknown> = { ...details };
  for (const [field, value] of Object.entries(changes)) {
    if (value === null) delete next[field];
    else if (value !== undefined) next[field] = value;
  }
  return next as D;
}
