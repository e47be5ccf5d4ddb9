import type { RecordedEvent } from '@timeline/event-store';
import { randomUUID } from 'node:crypto';
import type { EntryListQuery } from '../read-model/entry-queries';
import type { TimelineReadModel } from '../read-model/timeline-read-model.port';
import { recordedAt, signingData } from './recorded-events';

/**
 * The executable specification of the TimelineReadModel port. Every adapter
 * runs this same suite (see sqlite-read-model.spec.ts), as every event store
 * runs event-store.contract.ts. `open` gives a fresh, empty read model each
 * time it is called; the suite closes what it opened.
 */
export function describeReadModelContract(adapter: string, open: () => TimelineReadModel): void {
  describe(`TimelineReadModel contract: ${adapter}`, () => {
    const opened: TimelineReadModel[] = [];
    const fresh = () => {
      const model = open();
      opened.push(model);
      return model;
    };
    afterEach(() => {
      for (const model of opened.splice(0)) model.close();
    });

    /** Events at positions 1, 2, 3..., as the store would deliver them. */
    function log() {
      const events: RecordedEvent[] = [];
      const add = (stream: string, revision: number, type: string, data: Record<string, unknown>) => {
        const event = recordedAt(events.length + 1, stream, revision, type, data);
        events.push(event);
        return event;
      };
      return {
        events,
        open: (slug: string, title = `Timeline ${slug}`) => add(`timeline-${slug}`, 0, 'TimelineOpened', { slug, title, description: '' }),
        record: (timeline: string, entryId: string = randomUUID(), revision = 0) => add(`entry-${entryId}`, revision, 'SigningRecorded', signingData(timeline, entryId)),
        correct: (entryId: string, revision: number, title: string) =>
          add(`entry-${entryId}`, revision, 'EntryCorrected', { entryId, changes: { title }, reason: 'a better source' }),
        retract: (entryId: string, revision: number) => add(`entry-${entryId}`, revision, 'EntryRetracted', { entryId, reason: 'duplicate' }),
        poison: () => add('entry-ghost', 1, 'EntryCorrected', { entryId: 'ghost', changes: { title: 'x' }, reason: 'r' }),
      };
    }

    const query = (timeline: string, extra: Partial<EntryListQuery> = {}): EntryListQuery => ({
      timeline,
      order: 'asc',
      limit: 100,
      includeRetracted: true,
      ...extra,
    });

    it('starts empty, before the first event', () => {
      const model = fresh();
      expect(model.checkpoint()).toBeNull();
      expect(model.timelines()).toEqual([]);
      expect(model.deadLetterCount()).toBe(0);
      expect(model.entries(query('news'))).toEqual({ items: [], nextCursor: null });
    });

    it('applies a batch with its checkpoint, returns its entry changes in log order, and ignores it when delivered again', () => {
      const model = fresh();
      const l = log();
      l.open('news');
      const a = l.record('news');
      const b = l.record('news');
      const result = model.project(l.events);
      expect(result.deadLetters).toEqual([]);
      expect(result.changes.map((c) => [c.position, c.type, c.entry.entryId])).toEqual([
        [a.position, 'entry.recorded', a.data.entryId],
        [b.position, 'entry.recorded', b.data.entryId],
      ]);
      expect(model.checkpoint()).toBe(b.position);
      const digest = model.digest();
      expect(model.project(l.events)).toEqual({ changes: [], deadLetters: [] });
      expect(model.digest()).toBe(digest);
    });

    it('serves timelines, entries, changes and past versions from what it applied', () => {
      const model = fresh();
      const l = log();
      l.open('news');
      const a = l.record('news');
      const id = a.data.entryId as string;
      const corrected = l.correct(id, 1, 'A, corrected');
      const retracted = l.retract(id, 2);
      model.project(l.events);

      expect(model.timeline('news')).toMatchObject({ slug: 'news', entryCount: 0, retractedCount: 1, position: retracted.position });
      expect(model.entry(id)).toMatchObject({ entryId: id, timeline: 'news', status: 'retracted', title: 'A, corrected', revision: 2 });
      expect(model.entries(query('news', { includeRetracted: false })).items).toEqual([]);
      expect(model.entriesAsOf(query('news'), corrected.position).items.map((e) => [e.title, e.status])).toEqual([['A, corrected', 'active']]);
      expect(model.changesSince('news', a.position, 10).map((c) => c.type)).toEqual(['entry.corrected', 'entry.retracted']);
      expect(model.nextChangePosition('news', a.position)).toBe(corrected.position);
      expect(model.positionAt('news', corrected.recordedAt)).toBe(corrected.position);
    });

    it('lists the latest entries by recording order, newest first, retracted ones with their last version', () => {
      const model = fresh();
      const l = log();
      l.open('news');
      l.open('sport');
      const [a, b, c] = [l.record('news'), l.record('news'), l.record('news')].map((e) => e.data.entryId as string);
      l.record('sport');
      l.correct(a, 1, 'A, corrected');
      l.retract(b, 1);
      model.project(l.events);
      expect(model.latestEntries('news', 10).map((e) => [e.entryId, e.status])).toEqual([[c, 'active'], [b, 'retracted'], [a, 'active']]);
      expect(model.latestEntries('news', 10)[2].title).toBe('A, corrected');
      expect(model.latestEntries('news', 2).map((e) => e.entryId)).toEqual([c, b]);
      expect(model.latestEntries('nowhere', 10)).toEqual([]);
    });

    it('sets a poison event aside as a dead letter and applies the rest of its batch', () => {
      const model = fresh();
      const l = log();
      l.open('news');
      const poison = l.poison();
      const good = l.record('news');
      const result = model.project(l.events);
      expect(result.deadLetters.map((d) => d.position)).toEqual([poison.position]);
      expect(model.deadLetterCount()).toBe(1);
      expect(model.deadLetters().map((d) => [d.position, d.event])).toEqual([[poison.position, poison]]);
      expect(model.entry(good.data.entryId as string)).toBeDefined();
      expect(model.checkpoint()).toBe(good.position);
    });

    it('keeps what the projection keeps: an entry its first timeline, kind and place; a timeline its first opened_at', () => {
      const model = fresh();
      const l = log();
      const news = l.open('news');
      l.open('sport');
      const first = l.record('news');
      const id = first.data.entryId as string;
      const later = l.record('news');
      l.record('sport', id, 1); // the same entry recorded again, in another timeline (a damaged log)
      l.open('news', 'News, again');
      model.project(l.events);
      expect(model.entry(id)).toMatchObject({ timeline: 'news', kind: 'signing' });
      // Its place among entries of the same date is still its first recording's: before `later`.
      expect(model.entries(query('news')).items.map((e) => e.entryId)).toEqual([id, later.data.entryId]);
      expect(model.timeline('news')).toMatchObject({ title: 'News, again', openedAt: news.recordedAt });
    });

    it('rebuilds to exactly what projecting batch by batch builds, and reset empties it', () => {
      const l = log();
      l.open('news');
      const ids = [0, 1, 2, 3].map(() => l.record('news').data.entryId as string);
      l.correct(ids[1], 1, 'corrected');
      l.poison();
      l.retract(ids[2], 1);
      const reference = fresh();
      for (const event of l.events) reference.project([event]);

      const rebuilt = fresh();
      rebuilt.project(l.events.slice(0, 3));
      const rebuild = rebuilt.startRebuild();
      expect(rebuilt.checkpoint()).toBeNull();
      for (let i = 0; i < l.events.length; i += 3) rebuild.project(l.events.slice(i, i + 3));
      rebuild.finish();
      expect(rebuilt.checkpoint()).toBe(reference.checkpoint());
      expect(rebuilt.deadLetters()).toEqual(reference.deadLetters());
      expect(rebuilt.digest()).toBe(reference.digest());

      rebuilt.reset();
      expect(rebuilt.checkpoint()).toBeNull();
      expect(rebuilt.deadLetterCount()).toBe(0);
      expect(rebuilt.digest()).toBe(fresh().digest());
    });
  });
}
