import type { Position } from '@timeline/event-store';
import type { EntryChange, TimelineReadModel } from '@timeline/projections';

/** The changes of one timeline, contiguous: every change of it with position in [first, last] is here, in order. */
class Run {
  readonly changes: EntryChange[] = [];
  /** Index of the first change still held (evicted ones are left in front until compaction). */
  start = 0;
  /**
   * The read model's checkpoint when the log was last found to hold nothing of
   * this timeline after `last`; undefined until checked, and again once a
   * change is added. While the checkpoint has not moved, neither has the log.
   */
  latestAt: Position | undefined;

  get size(): number {
    return this.changes.length - this.start;
  }

  get first(): EntryChange | undefined {
    return this.changes[this.start];
  }

  get last(): EntryChange | undefined {
    return this.changes[this.changes.length - 1];
  }

  push(change: EntryChange): void {
    this.changes.push(change);
    this.latestAt = undefined;
  }

  shift(): void {
    this.start += 1;
    if (this.start > 64 && this.start * 2 > this.changes.length) {
      this.changes.splice(0, this.start);
      this.start = 0;
    }
  }

  /** The held changes with position > after, in order. */
  after(after: Position): EntryChange[] {
    let lo = this.start;
    let hi = this.changes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.changes[mid]!.position <= after) lo = mid + 1;
      else hi = mid;
    }
    return this.changes.slice(lo);
  }
}

/**
 * The most recent changes, per timeline, as the projector published them: a
 * resuming client is served from memory instead of reading (and parsing) the
 * change log again, and all clients resuming share the same change objects,
 * so an update is encoded once however many clients it is replayed to.
 *
 * Never trusted blindly: a timeline's run is kept contiguous with the read
 * model's change log (a published change that does not directly follow the
 * run's last one in the log starts a new run), and a run is used only when
 * the log holds nothing of that timeline after its last change (e.g. a batch
 * applied but not yet published, or a rebuild). Otherwise the caller reads
 * the log, as before. At most `capacity` changes are held, oldest evicted first.
 */
export class LiveReplayCache {
  private readonly runs = new Map<string, Run>();
  /** Held changes in the order they were added, for eviction (may name changes a reset already dropped). */
  private readonly order: EntryChange[] = [];
  private orderStart = 0;

  constructor(
    private readonly readModel: TimelineReadModel,
    private readonly capacity: number,
  ) {}

  /** Called with every published change, in log order. */
  add(change: EntryChange): void {
    if (this.capacity <= 0) return;
    let run = this.runs.get(change.timeline);
    const last = run?.last;
    if (run && last && change.position <= last.position) return; // published again: already held
    if (!run || !last || !this.follows(change, last.position)) {
      run = new Run();
      this.runs.set(change.timeline, run);
    }
    run.push(change);
    this.order.push(change);
    while (this.order.length - this.orderStart > this.capacity) this.evictOldest();
  }

  /**
   * Every change of `timeline` with position > after, up to the read model's
   * checkpoint, if held here; undefined when the log must be read instead.
   */
  changesAfter(timeline: string, after: Position): EntryChange[] | undefined {
    const run = this.runs.get(timeline);
    const first = run?.first;
    const last = run?.last;
    if (!run || !first || !last || after < first.position) return undefined;
    const latest = this.holdsLatest(timeline, run, last);
    if (after >= last.position) {
      // Nothing held after `after`; the log may still hold later changes.
      return latest || this.readModel.nextChangePosition(timeline, after) === null ? [] : undefined;
    }
    return latest ? run.after(after) : undefined;
  }

  /**
   * Whether the log holds nothing of the timeline after the run's last change.
   * Asked of the read model once per checkpoint, not once per resume: the
   * change log only grows with the checkpoint (a rebuild that empties it ends
   * at the same checkpoint with the same changes), so a thousand clients
   * resuming at once cost one query.
   */
  private holdsLatest(timeline: string, run: Run, last: EntryChange): boolean {
    const checkpoint = this.readModel.checkpoint();
    if (checkpoint !== null && run.latestAt === checkpoint) return true;
    if (this.readModel.nextChangePosition(timeline, last.position) !== null) return false;
    run.latestAt = checkpoint ?? undefined;
    return true;
  }

  /** How many changes are held (for tests). */
  size(): number {
    let n = 0;
    for (const run of this.runs.values()) n += run.size;
    return n;
  }

  /** Whether `change` is the next change of its timeline in the log after `position`. */
  private follows(change: EntryChange, position: Position): boolean {
    // Asked of every published change, so only the index is read.
    return this.readModel.nextChangePosition(change.timeline, position) === change.position;
  }

  private evictOldest(): void {
    const change = this.order[this.orderStart]!;
    this.orderStart += 1;
    if (this.orderStart > 1024 && this.orderStart * 2 > this.order.length) {
      this.order.splice(0, this.orderStart);
      this.orderStart = 0;
    }
    const run = this.runs.get(change.timeline);
    if (run && run.first === change) {
      run.shift();
      if (run.size === 0) this.runs.delete(change.timeline);
    }
  }
}
