/**
 * The server's memory of recently committed event ids, used for *weak* idempotency.
 *
 * KurrentDB's IndexWriter keeps `_committedEvents`, a BoundedCache<Guid, EventInfo>
 * (src/KurrentDB.Core/Services/Storage/ReaderIndex/BoundedCache.cs) filled at
 * every commit (PreCommit). When a write expects `any` or `stream_exists`, the
 * server cannot know where in the stream a retry's events would be, so it looks
 * the ids up in this cache only: a retry is recognised while its ids are still
 * cached, and written again (duplicates) once they have been evicted. The real
 * cache is bounded by memory (ESConsts.CommittedEventsMemCacheLimit, 8 MiB, so
 * roughly 10^5 ids); here it is bounded by a count, small by default, so tests
 * can reach the eviction. Like the server's, it is not persisted: a restarted
 * node starts with an empty cache.
 *
 * The eviction rules are the server's, quirks included: entries leave in
 * insertion order (a FIFO queue of keys), and putting an id that is already
 * cached enqueues it again but keeps the first value.
 */
export interface CommittedEventInfo {
  stream: string;
  eventNumber: bigint;
}

export class RecentEventIds {
  private readonly entries = new Map<string, CommittedEventInfo>();
  private readonly queue: string[] = [];
  private head = 0;

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }

  get(eventId: string): CommittedEventInfo | undefined {
    return this.entries.get(eventId);
  }

  put(eventId: string, info: CommittedEventInfo): void {
    while (this.queue.length - this.head >= this.capacity) {
      const oldest = this.queue[this.head++];
      this.entries.delete(oldest);
    }
    this.queue.push(eventId);
    if (!this.entries.has(eventId)) this.entries.set(eventId, info);
    // Compact now and then so the queue does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  clear(): void {
    this.entries.clear();
    this.queue.length = 0;
    this.head = 0;
  }
}
