import { isDeepStrictEqual } from 'node:util';
import type { Decider } from '../decider';
import {
  CorruptLogError,
  EntryIdConflictError,
  EntryNotFoundError,
  EntryRetractedError,
  InvalidCommandError,
  StaleRevisionError,
} from '../domain.errors';
import { entryStream } from '../streams';
import { unreachable } from '../unreachable';
import { applyChanges } from './entry-changes';
import { ENTRY_EVENT_TYPES, KIND_OF_RECORDED_EVENT, RECORDED_EVENT_OF_KIND, type EntryEvent, type EntryRecorded } from './entry.events';
import { OPTIONAL_FIELDS, type EntryChanges, type EntryDetails } from './entry.types';

/** Record one development. Its kind picks the event: RecordAnnouncement etc. are this command per kind. */
export interface RecordEntry {
  type: 'RecordEntry';
  entryId: string;
  timeline: string;
  details: EntryDetails;
}

export interface CorrectEntry {
  type: 'CorrectEntry';
  entryId: string;
  /** The revision the editor saw (If-Match). */
  expectedRevision: number;
  changes: EntryChanges;
  reason: string;
}

export interface RetractEntry {
  type: 'RetractEntry';
  entryId: string;
  /** Optional: retract only if nobody changed the entry since this revision. */
  expectedRevision?: number;
  reason: string;
}

export type EntryCommand = RecordEntry | CorrectEntry | RetractEntry;

export type EntryState =
  | { status: 'none' }
  | {
      status: 'active' | 'retracted';
      entryId: string;
      timeline: string;
      details: EntryDetails;
      /** The details as first recorded: what a retry of the recording must match, whatever was corrected since. */
      recorded: EntryDetails;
      /** Revision of the entry's stream: 0 when recorded, +1 per correction or retraction. */
      revision: number;
    };

export const initialEntryState = (): EntryState => ({ status: 'none' });

export function decideEntry(command: EntryCommand, state: EntryState): EntryEvent[] {
  switch (command.type) {
    case 'RecordEntry':
      return record(command, state);
    case 'CorrectEntry':
      return correct(command, state);
    case 'RetractEntry':
      return retract(command, state);
    default:
      return unreachable(command);
  }
}

function record(command: RecordEntry, state: EntryState): EntryEvent[] {
  if (state.status !== 'none') {
    // Same entryId, same content: a retry of a request that already succeeded. Nothing new happens.
    if (state.timeline === command.timeline && isDeepStrictEqual(state.recorded, command.details)) return [];
    throw new EntryIdConflictError(command.entryId);
  }
  assertInvariants(command.entryId, command.details);
  return [recordedEvent(command)];
}

function correct(command: CorrectEntry, state: EntryState): EntryEvent[] {
  const current = found(command.entryId, state);
  if (current.status === 'retracted') throw new EntryRetractedError(command.entryId);
  if (command.expectedRevision !== current.revision) {
    throw new StaleRevisionError(command.entryId, command.expectedRevision, current.revision);
  }
  if (Object.keys(command.changes).length === 0) throw new InvalidCommandError('changes', 'must change at least one field');
  for (const [field, value] of Object.entries(command.changes)) {
    if (value === null && !OPTIONAL_FIELDS.has(field)) {
      throw new InvalidCommandError(`changes.${field}`, 'is required and cannot be removed with null');
    }
  }
  assertInvariants(command.entryId, applyChanges(current.details, command.changes));
  return [
    {
      type: 'EntryCorrected',
      data: { entryId: command.entryId, timeline: current.timeline, changes: command.changes, reason: command.reason },
    },
  ];
}

function retract(command: RetractEntry, state: EntryState): EntryEvent[] {
  const current = found(command.entryId, state);
  if (current.status === 'retracted') throw new EntryRetractedError(command.entryId);
  if (command.expectedRevision !== undefined && command.expectedRevision !== current.revision) {
    throw new StaleRevisionError(command.entryId, command.expectedRevision, current.revision);
  }
  return [{ type: 'EntryRetracted', data: { entryId: command.entryId, timeline: current.timeline, reason: command.reason } }];
}

export function evolveEntry(state: EntryState, event: EntryEvent): EntryState {
  switch (event.type) {
    case 'AnnouncementRecorded':
    case 'SigningRecorded':
    case 'DeliveryRecorded': {
      const { entryId, timeline, ...fields } = event.data;
      const details = { kind: KIND_OF_RECORDED_EVENT[event.type], ...fields } as EntryDetails;
      return { status: 'active', entryId, timeline, details, recorded: details, revision: 0 };
    }
    case 'EntryCorrected': {
      const current = existing(event.data.entryId, state);
      return { ...current, details: applyChanges(current.details, event.data.changes), revision: current.revision + 1 };
    }
    case 'EntryRetracted': {
      const current = existing(event.data.entryId, state);
      return { ...current, status: 'retracted' as const, revision: current.revision + 1 };
    }
    default:
      return unreachable(event);
  }
}

/** Builds the recorded event for a kind, so that each kind's event carries exactly its own fields. */
export function recordedEvent(command: RecordEntry): EntryRecorded {
  const { kind, ...fields } = command.details;
  const data = { entryId: command.entryId, timeline: command.timeline, ...fields };
  return { type: RECORDED_EVENT_OF_KIND[kind], data } as EntryRecorded;
}

/** The entry a command is about: a client may name one that does not exist (404). */
function found(entryId: string, state: EntryState): Extract<EntryState, { entryId: string }> {
  if (state.status === 'none') throw new EntryNotFoundError(entryId);
  return state;
}

/** The entry an event applies to: the log itself says it was recorded, so its absence means the log is damaged. */
function existing(entryId: string, state: EntryState): Extract<EntryState, { entryId: string }> {
  if (state.status === 'none') throw new CorruptLogError(entryStream(entryId), 'a correction or retraction comes before the recording');
  return state;
}

/** Rules that span fields; each field's own shape is validated at the edge (DTOs). */
function assertInvariants(entryId: string, details: EntryDetails): void {
  if (details.relatedTo.includes(entryId)) throw new InvalidCommandError('relatedTo', 'must not include the entry itself');
  if (details.kind === 'signing' && new Set(details.parties).size < 2) {
    throw new InvalidCommandError('parties', 'must name at least 2 different parties');
  }
}

export const entryDecider: Decider<EntryCommand, EntryEvent, EntryState> = {
  decide: decideEntry,
  evolve: evolveEntry,
  initialState: initialEntryState,
  eventTypes: ENTRY_EVENT_TYPES,
};
