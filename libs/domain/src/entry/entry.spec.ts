import { foldStream } from '../decider';
import {
  CorruptLogError,
  EntryIdConflictError,
  EntryNotFoundError,
  EntryRetractedError,
  InvalidCommandError,
  StaleRevisionError,
} from '../domain.errors';
import { specification } from '../testing/decider-specification';
import { entryDecider, evolveEntry, initialEntryState, type EntryState } from './entry';
import type { EntryEvent } from './entry.events';
import type { SigningDetails } from './entry.types';

const given = specification(entryDecider);
const entryId = '5b1f7a56-1d2c-4f0e-9a51-0c8a3a1e2b10';
const timeline = 'japan-ukraine-support';

const accord: SigningDetails = {
  kind: 'signing',
  occurredOn: '2024-06-13',
  title: 'Japan and Ukraine sign a ten-year support accord',
  actors: ['JP', 'UA'],
  sources: [{ title: 'Japan Increases Its Support for Ukraine' }],
  tags: ['security-accord'],
  relatedTo: [],
  parties: ['JP', 'UA'],
  instrument: 'Accord on Support for Ukraine and Cooperation',
  place: 'Apulia, Italy',
  termYears: 10,
};
const { kind: _kind, ...accordFields } = accord;
const signed: EntryEvent = { type: 'SigningRecorded', data: { entryId, timeline, ...accordFields } };
const corrected: EntryEvent = {
  type: 'EntryCorrected',
  data: { entryId, timeline, changes: { place: null }, reason: 'the place was not reported' },
};
const retracted: EntryEvent = { type: 'EntryRetracted', data: { entryId, timeline, reason: 'duplicate of another entry' } };

describe('an entry', () => {
  describe('RecordEntry', () => {
    const record = { type: 'RecordEntry' as const, entryId, timeline, details: accord };

    it('records the event of its kind', () => {
      given([]).when(record).then([signed]);
    });

    it('does nothing when the same entry is recorded again (a retry)', () => {
      given([signed]).when(record).thenNothingHappens();
    });

    it('is still a retry after the entry was corrected', () => {
      given([signed, corrected]).when(record).thenNothingHappens();
    });

    it('refuses different content under an entryId already taken', () => {
      given([signed])
        .when({ ...record, details: { ...accord, title: 'Something else' } })
        .thenThrows(EntryIdConflictError);
    });

    it('refuses the same content in another timeline under a taken entryId', () => {
      given([signed]).when({ ...record, timeline: 'another-story' }).thenThrows(EntryIdConflictError);
    });

    it('refuses an entry related to itself', () => {
      given([])
        .when({ ...record, details: { ...accord, relatedTo: [entryId] } })
        .thenThrows(InvalidCommandError, (e) => expect(e.field).toBe('relatedTo'));
    });

    it('refuses a signing with fewer than two different parties', () => {
      given([])
        .when({ ...record, details: { ...accord, parties: ['JP', 'JP'] } })
        .thenThrows(InvalidCommandError, (e) => expect(e.field).toBe('parties'));
    });
  });

  describe('CorrectEntry', () => {
    const correct = { type: 'CorrectEntry' as const, entryId, expectedRevision: 0, changes: { place: null }, reason: 'the place was not reported' };

    it('records the correction with its reason', () => {
      given([signed]).when(correct).then([corrected]);
    });

    it('refuses a stale revision', () => {
      given([signed, corrected])
        .when(correct)
        .thenThrows(StaleRevisionError, (e) => expect([e.expected, e.actual]).toEqual([0, 1]));
    });

    it('refuses to correct a retracted entry', () => {
      given([signed, retracted]).when({ ...correct, expectedRevision: 1 }).thenThrows(EntryRetractedError);
    });

    it('refuses an unknown entry', () => {
      given([]).when(correct).thenThrows(EntryNotFoundError);
    });

    it('refuses an empty correction', () => {
      given([signed]).when({ ...correct, changes: {} }).thenThrows(InvalidCommandError);
    });

    it('refuses to remove a required field with null', () => {
      given([signed])
        .when({ ...correct, changes: { title: null } })
        .thenThrows(InvalidCommandError, (e) => expect(e.field).toBe('changes.title'));
    });

    it('refuses a correction that breaks a rule spanning fields', () => {
      given([signed]).when({ ...correct, changes: { parties: ['UA', 'UA'] } }).thenThrows(InvalidCommandError);
    });
  });

  describe('RetractEntry', () => {
    const retract = { type: 'RetractEntry' as const, entryId, reason: 'duplicate of another entry' };

    it('records the retraction', () => {
      given([signed, corrected]).when(retract).then([retracted]);
    });

    it('refuses to retract twice', () => {
      given([signed, retracted]).when(retract).thenThrows(EntryRetractedError);
    });

    it('checks the revision when one is given', () => {
      given([signed, corrected]).when({ ...retract, expectedRevision: 0 }).thenThrows(StaleRevisionError);
    });
  });

  describe('evolve', () => {
    it('applies corrections and counts revisions; null removes an optional field', () => {
      const state = [signed, corrected, retracted].reduce(evolveEntry, initialEntryState()) as Extract<EntryState, { entryId: string }>;
      expect(state.status).toBe('retracted');
      expect(state.revision).toBe(2);
      expect(state.details).not.toHaveProperty('place');
      expect(state.details.title).toBe(accord.title);
      expect(state.recorded).toEqual(accord);
    });

    it('a stream whose first event is a correction or retraction is a damaged log, not an unknown entry', () => {
      const retract = { type: 'RetractEntry' as const, entryId, reason: 'duplicate of another entry' };
      for (const first of [corrected, retracted]) {
        given([first])
          .when(retract)
          .thenThrows(CorruptLogError, (e) => expect([e.code, e.stream]).toEqual(['corrupt_log', `entry-${entryId}`]));
      }
    });

    it('the fold passes over event types the decider does not know', () => {
      const stored = [{ ...signed, position: '1', metadata: {} }, { type: 'SomethingNewer', data: {} }, { ...corrected, position: '2' }];
      expect(foldStream(entryDecider, stored)).toEqual([signed, corrected].reduce(evolveEntry, initialEntryState()));
    });
  });
});
