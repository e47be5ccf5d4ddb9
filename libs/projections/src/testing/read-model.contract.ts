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
        /** A signing with these fields, or an entry of another kind (`type`) with its own. */
        recordWith: (timeline: string, fields: Record<string, unknown>, type = 'SigningRecorded') => {
          const entryId = randomUUID();
          return add(`entry-${entryId}`, 0, type, { ...signingData(timeline, entryId), ...fields });
        },
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

    describe('search', () => {
      /** Entries whose only shared word is "accord", each holding one other word in one searchable place. */
      function searchable() {
        const l = log();
        l.open('news');
        l.open('sport');
        const id = (e: RecordedEvent) => e.data.entryId as string;
        const e = {
          title: id(l.recordWith('news', { title: 'Japan signs the Mogami accord', occurredOn: '2024-01' })),
          summary: id(l.recordWith('news', { title: 'Accord', summary: 'The frigate Mogami toured', occurredOn: '2024-02' })),
          source: id(l.recordWith('news', { title: 'Accord in Kyïv', sources: [{ title: 'Yokosuka harbour report', url: 'https://x.test/zebra' }] })),
          instrument: id(l.recordWith('sport', { title: 'Accord', instrument: 'Memorandum on demining', actors: ['NATO'], parties: ['NATO'] })),
          items: id(l.recordWith('sport', { title: 'Accord', supplier: 'JP', recipient: 'UA', items: [{ category: 'vehicles', description: 'Toyota trucks' }] }, 'DeliveryRecorded')),
          announcer: id(l.recordWith('sport', { title: 'Accord', announcer: 'KR', stage: 'announced', actors: ['KR'] }, 'AnnouncementRecorded')),
        };
        return { l, e };
      }
      const search = (model: TimelineReadModel, q: string, extra: Partial<EntryListQuery> = {}) =>
        model.search({ q, limit: 100, includeRetracted: false, ...extra }).items.map((i) => i.entryId);

      /** Every page of a search, `limit` at a time, by its cursors. */
      function walk(model: TimelineReadModel, q: string, limit: number): string[] {
        const ids: string[] = [];
        let cursor: string | undefined;
        do {
          const page = model.search({ q, limit, includeRetracted: false, cursor });
          ids.push(...page.items.map((i) => i.entryId));
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        return ids;
      }

      it('finds words in title, summary, actors, sources\' titles and each kind\'s own text, in any form, best first', () => {
        const model = fresh();
        const { l, e } = searchable();
        model.project(l.events);
        expect(search(model, 'mogami')).toEqual([e.title, e.summary]); // the title weighs more than the summary
        expect(search(model, 'YOKOSUKA')).toEqual([e.source]);
        expect(search(model, 'zebra')).toEqual([]); // a source's url is not its title
        expect(search(model, 'demining')).toEqual([e.instrument]);
        expect(search(model, 'truck')).toEqual([e.items]); // stemmed: trucks
        expect(search(model, 'KR')).toEqual([e.announcer]);
        expect(search(model, 'sign')).toEqual([e.title]);
        expect(search(model, 'kyiv')).toEqual([e.source]); // without its diacritics
        expect(model.search({ q: 'toyota', limit: 10, includeRetracted: false }).items.map((i) => i.timeline)).toEqual(['sport']);
        expect(model.entries(query('news', { q: 'accord', includeRetracted: false })).items.map((i) => i.entryId).sort()).toEqual(
          [e.title, e.summary, e.source].sort(),
        );
      });

      it('reads phrases, prefixes and OR, and refuses what it cannot read naming q, whatever FTS5 would make of it', () => {
        const model = fresh();
        const { l, e } = searchable();
        model.project(l.events);
        expect(search(model, '"Mogami accord"')).toEqual([e.title]);
        expect(search(model, 'mog*')).toEqual([e.title, e.summary]);
        expect(search(model, 'toyota OR yokosuka').sort()).toEqual([e.items, e.source].sort());
        for (const text of ['title:mogami', 'NEAR(a b)', 'AND', 'U.S. F-16', 'a NOT b', '^x', '(mogami)', '{title}: x']) {
          expect(() => search(model, text)).not.toThrow();
        }
        for (const text of ['"mogami', 'OR mogami', 'mogami OR', '*', '...', '']) {
          expect(() => search(model, text)).toThrow(expect.objectContaining({ code: 'invalid', field: 'q', message: expect.stringMatching(/^q /) }));
        }
      });

      it('combines with the filters and pages by cursor, exactly', () => {
        const model = fresh();
        const { l, e } = searchable();
        model.project(l.events);
        expect(search(model, 'accord', { kind: 'delivery' })).toEqual([e.items]);
        expect(search(model, 'accord', { actor: 'NATO' })).toEqual([e.instrument]);
        expect(model.entries(query('news', { q: 'accord', from: '2024-02', to: '2024-02' })).items.map((i) => i.entryId)).toEqual([e.summary]);
        const all = search(model, 'accord');
        expect(all).toHaveLength(6);
        expect(walk(model, 'accord', 4)).toEqual(all);
        expect(() => model.search({ q: 'accord', limit: 4, includeRetracted: false, cursor: model.entries(query('news', { limit: 1 })).nextCursor! })).toThrow(
          expect.objectContaining({ field: 'cursor' }),
        );
      });

      it('orders equal ranks in recording order, and pages exactly through a tie that runs across pages', () => {
        const model = fresh();
        const l = log();
        l.open('news');
        const twins = Array.from({ length: 8 }, () => l.recordWith('news', { title: 'Twin frigates' }).data.entryId as string);
        // Rebuilt, the rows are written in entry id order (random ids): the index's own order is not the recording order.
        const rebuild = model.startRebuild();
        rebuild.project(l.events);
        rebuild.finish();
        expect(walk(model, 'frigate', 3)).toEqual(twins);
      });

      it('searches a correction as corrected, and a retracted entry only with includeRetracted', () => {
        const model = fresh();
        const l = log();
        l.open('news');
        const a = l.record('news');
        const id = a.data.entryId as string;
        l.correct(id, 1, 'Helmets delivered');
        model.project(l.events);
        expect(search(model, 'entry')).toEqual([]);
        expect(search(model, 'helmet')).toEqual([id]);
        model.project([l.retract(id, 2)]);
        expect(search(model, 'helmet')).toEqual([]);
        expect(search(model, 'helmet', { includeRetracted: true })).toEqual([id]);
      });
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
      const everything = { q: 'entry OR corrected', limit: 100, includeRetracted: true };
      expect(rebuilt.search(everything)).toEqual(reference.search(everything));
      expect(rebuilt.search(everything).items).toHaveLength(4);

      rebuilt.reset();
      expect(rebuilt.checkpoint()).toBeNull();
      expect(rebuilt.deadLetterCount()).toBe(0);
      expect(rebuilt.digest()).toBe(fresh().digest());
    });
  });
}
