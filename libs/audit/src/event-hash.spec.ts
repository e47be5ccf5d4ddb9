import type { EventMetadata, NewEvent, RecordedEvent } from '@timeline/event-store';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { AUDITED_METADATA, eventHash, type HashableEvent } from './event-hash';
import { chainEvents } from './hash-chain';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** One fixed event. Its hash is frozen below: a change of format must be a deliberate one. */
const fixed = (): HashableEvent => ({
  type: 'AnnouncementRecorded',
  data: {
    entryId: '8a1c3e52-4f0b-4d7e-9c21-6b5e0f3a9d47',
    timeline: 'japan-ukraine-support',
    occurredOn: '2024-06-13',
    title: 'Japan pledges 4.5 billion dollars — «€»',
    actors: ['JP', 'UA'],
    pledge: { amount: 4500000000, currency: 'USD' },
    ratio: 0.1,
    tags: [],
  },
  metadata: { recordedBy: 'alice', correlationId: 'req-42', causationId: null, schemaVersion: 1, prevHash: null },
});

const FIXED_HASH = 'c21489115879e2113d9427823e1f151c81a37f71040094632336207f3f92de2a';

/** The same value with the keys of every object (at any depth) in reverse order. */
function reverseKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(reverseKeys) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reverseKeys(v)])) as T;
  }
  return value;
}

describe('eventHash', () => {
  it('matches the frozen hash of a fixed event (guards the format against accidental change)', () => {
    expect(eventHash(fixed())).toBe(FIXED_HASH);
  });

  it('is SHA-256 over the RFC 8785 canonical JSON of {type, data, metadata}: sorted keys, no spaces, UTF-8 as is', () => {
    const canonical =
      '{"data":{"actors":["JP","UA"],"entryId":"8a1c3e52-4f0b-4d7e-9c21-6b5e0f3a9d47","occurredOn":"2024-06-13",' +
      '"pledge":{"amount":4500000000,"currency":"USD"},"ratio":0.1,"tags":[],"timeline":"japan-ukraine-support",' +
      '"title":"Japan pledges 4.5 billion dollars — «€»"},' +
      '"metadata":{"causationId":null,"correlationId":"req-42","prevHash":null,"recordedBy":"alice","schemaVersion":1},' +
      '"type":"AnnouncementRecorded"}';
    expect(sha256(canonical)).toBe(FIXED_HASH);
    expect(eventHash(fixed())).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is stable under key order, at every depth and in metadata', () => {
    const event = fixed();
    expect(eventHash(reverseKeys(event))).toBe(FIXED_HASH);
    expect(eventHash({ metadata: event.metadata, data: event.data, type: event.type })).toBe(FIXED_HASH);
  });

  it('is stable under key order for any JSON data (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.string(), (data, correlationId) => {
        const event: HashableEvent = {
          type: 'T',
          data,
          metadata: { recordedBy: 'r', correlationId, causationId: null, schemaVersion: 1, prevHash: null },
        };
        expect(eventHash(reverseKeys(event))).toBe(eventHash(event));
        // and it is deterministic: a JSON round trip (what the store does) changes nothing
        expect(eventHash(JSON.parse(JSON.stringify(event)) as HashableEvent)).toBe(eventHash(event));
      }),
      { numRuns: 200 },
    );
  });

  it('lists exactly the audited metadata fields', () => {
    expect([...AUDITED_METADATA].sort()).toEqual(['causationId', 'correlationId', 'prevHash', 'recordedBy', 'schemaVersion']);
  });

  it.each<[string, (e: HashableEvent) => void]>([
    ['another type', (e) => (e.type = 'SigningRecorded')],
    ['another top-level data value', (e) => (e.data.title = 'Japan pledges 4.6 billion dollars — «€»')],
    ['one character changed in a data string', (e) => (e.data.entryId = '8a1c3e52-4f0b-4d7e-9c21-6b5e0f3a9d48')],
    ['another nested data value', (e) => ((e.data.pledge as { amount: number }).amount = 4500000001)],
    ['a number written as a string of the same digits', (e) => ((e.data.pledge as { amount: unknown }).amount = '4500000000')],
    ['an array in another order', (e) => (e.data.actors = ['UA', 'JP'])],
    ['an added data field', (e) => (e.data.summary = 'At the G7')],
    ['a removed data field', (e) => delete e.data.tags],
    ['a data field set to null', (e) => (e.data.tags = null)],
    ['another metadata.recordedBy', (e) => (e.metadata.recordedBy = 'mallory')],
    ['another metadata.correlationId', (e) => (e.metadata.correlationId = 'req-43')],
    ['another metadata.causationId', (e) => (e.metadata.causationId = 'req-42')],
    ['another metadata.schemaVersion', (e) => (e.metadata.schemaVersion = 2)],
    ['metadata.prevHash set to a hash instead of null', (e) => (e.metadata.prevHash = FIXED_HASH)],
    ['metadata.prevHash absent instead of null', (e) => delete e.metadata.prevHash],
  ])('changes with %s', (_what, mutate) => {
    const event = structuredClone(fixed());
    mutate(event);
    expect(eventHash(event)).not.toBe(FIXED_HASH);
  });

  it('gives different hashes to different prevHash values', () => {
    const withPrev = (prevHash: string) => eventHash({ ...fixed(), metadata: { ...fixed().metadata, prevHash } });
    expect(withPrev('a'.repeat(64))).not.toBe(withPrev('b'.repeat(64)));
  });

  it.each<[string, Record<string, unknown>]>([
    ['its own hash', { hash: FIXED_HASH }],
    ['a wrong stored hash', { hash: 'not even hex' }],
    ['store-added fields (position, recordedAt, revision, stream, id)', { position: '00000000000000000042', recordedAt: '2024-06-13T14:05:00.000Z', revision: 3, stream: 'entry-x', id: 'e1' }],
    ['any other extra key', { client: 'cms-1.2', traceparent: '00-abc-def-01' }],
    ['an extra key whose value is undefined', { extra: undefined }],
  ])('ignores non-audited metadata: %s', (_what, extra) => {
    const event = fixed();
    expect(eventHash({ ...event, metadata: { ...event.metadata, ...extra } as EventMetadata })).toBe(FIXED_HASH);
  });

  it('ignores the fields of a recorded event outside type, data and metadata', () => {
    const recorded: RecordedEvent = {
      ...fixed(),
      id: 'some-id',
      stream: 'entry-8a1c3e52-4f0b-4d7e-9c21-6b5e0f3a9d47',
      revision: 0,
      position: '00000000000000000007',
      recordedAt: '2024-06-13T14:05:00.000Z',
    };
    expect(eventHash(recorded)).toBe(FIXED_HASH);
  });

  it('refuses what has no canonical JSON form', () => {
    expect(() => eventHash({ ...fixed(), data: { amount: Number.NaN } })).toThrow();
    expect(() => eventHash({ ...fixed(), data: { amount: Number.POSITIVE_INFINITY } })).toThrow();
  });
});

// ---------------------------------------------------------------------------

const newEvent = (n: number, overrides: Partial<NewEvent> = {}): NewEvent => ({
  id: `id-${n}`,
  type: n === 0 ? 'AnnouncementRecorded' : 'EntryCorrected',
  data: { entryId: 'e', timeline: 'story', n },
  metadata: { recordedBy: 'alice', correlationId: `corr-${n}`, causationId: `corr-${n}`, schemaVersion: 1 },
  ...overrides,
});

/** What the store hands back for a written event. */
const recorded = (event: NewEvent, revision: number): RecordedEvent => ({
  ...event,
  stream: 'entry-e',
  revision,
  position: String(revision + 1).padStart(20, '0'),
  recordedAt: '2024-06-13T14:05:00.000Z',
});

describe('chainEvents', () => {
  it('starts a stream with prevHash null and gives each event its own hash over its content', () => {
    const [first] = chainEvents([], [newEvent(0)]);
    expect(first.metadata.prevHash).toBeNull();
    expect(first.metadata.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(first.metadata.hash).toBe(eventHash(first));
    expect(first.metadata.hash).toBe(eventHash({ ...newEvent(0), metadata: { ...newEvent(0).metadata, prevHash: null } }));
  });

  it('keeps everything else as it was, and does not change its input', () => {
    const input = [newEvent(0)];
    const snapshot = structuredClone(input);
    const [first] = chainEvents([], input);
    expect(input).toEqual(snapshot);
    expect(first).toEqual({ ...snapshot[0], metadata: { ...snapshot[0].metadata, prevHash: null, hash: first.metadata.hash } });
  });

  it('links to the STORED hash of the last event of the history, not to a hash recomputed from its content', () => {
    const [first] = chainEvents([], [newEvent(0)]);
    const history = [recorded(first, 0)];
    const [second] = chainEvents(history, [newEvent(1)]);
    expect(second.metadata.prevHash).toBe(first.metadata.hash);
    expect(second.metadata.hash).toBe(eventHash(second));

    // Someone altered the stored event's data but left its hash: the link still follows the stored hash,
    // so the alteration is not laundered into the chain (the verifier then catches the mismatch).
    const altered = { ...history[0], data: { ...history[0].data, n: 999 } };
    expect(eventHash(altered)).not.toBe(altered.metadata.hash);
    expect(chainEvents([altered], [newEvent(1)])[0].metadata.prevHash).toBe(first.metadata.hash);

    // A stored hash that is not even a real hash is still what is linked.
    const odd = { ...history[0], metadata: { ...history[0].metadata, hash: 'stored-hash' } };
    expect(chainEvents([odd], [newEvent(1)])[0].metadata.prevHash).toBe('stored-hash');
  });

  it('uses the last event of a longer history', () => {
    const chained = chainEvents([], [newEvent(0), newEvent(1), newEvent(2)]);
    const history = chained.map(recorded);
    const [next] = chainEvents(history, [newEvent(3)]);
    expect(next.metadata.prevHash).toBe(chained[2].metadata.hash);
  });

  it('links to null when the last event of the history carries no hash (written before tamper evidence)', () => {
    const legacy = recorded(newEvent(0), 0);
    expect(legacy.metadata.hash).toBeUndefined();
    expect(chainEvents([legacy], [newEvent(1)])[0].metadata.prevHash).toBeNull();
  });

  it('chains several events appended together, each to the one before it', () => {
    const [history] = chainEvents([], [newEvent(0)]);
    const batch = chainEvents([recorded(history, 0)], [newEvent(1), newEvent(2), newEvent(3)]);
    expect(batch.map((e) => e.metadata.prevHash)).toEqual([history.metadata.hash, batch[0].metadata.hash, batch[1].metadata.hash]);
    for (const e of batch) expect(e.metadata.hash).toBe(eventHash(e));
    expect(new Set([history, ...batch].map((e) => e.metadata.hash)).size).toBe(4);
  });

  it('gives the same event different hashes at different places in a chain', () => {
    const [a] = chainEvents([], [newEvent(1)]);
    const [b] = chainEvents([recorded(chainEvents([], [newEvent(0)])[0], 0)], [newEvent(1)]);
    expect(a.metadata.hash).not.toBe(b.metadata.hash);
  });

  it('replaces a prevHash or hash the caller put in the metadata', () => {
    const forged = newEvent(0, { metadata: { ...newEvent(0).metadata, prevHash: 'x', hash: 'y' } });
    const [chained] = chainEvents([], [forged]);
    expect(chained.metadata.prevHash).toBeNull();
    expect(chained.metadata.hash).toBe(eventHash(chained));
    expect(chained.metadata.hash).not.toBe('y');
  });

  it('returns nothing for no new events', () => {
    expect(chainEvents([], [])).toEqual([]);
  });
});
