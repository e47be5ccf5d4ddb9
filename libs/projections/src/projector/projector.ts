import type { EventStore, EventSubscription, Position, RecordedEvent } from '@timeline/event-store';
import type { TimelineReadModel } from '../read-model/timeline-read-model.port';
import type { EntryChange } from '../read-model/timeline.projection';

export interface ProjectorLogger {
  log(message: string): void;
  error(message: string, error?: unknown): void;
}

export interface RebuildProgress {
  events: number;
  position: Position;
}

export interface RebuildResult<Digest extends string | null> {
  events: number;
  /** TimelineReadModel.digest() of the result, unless the caller asked to skip it. */
  digest: Digest;
  deadLetters: number;
}

interface Waiter {
  position: Position;
  resolve(caughtUp: boolean): void;
  timer: NodeJS.Timeout;
}

/**
 * Events per page, and per transaction, of a rebuild. A page's events and
 * what folding them makes are alive until the page is written, so every
 * young-generation GC during it copies them: a 1,000,000-event rebuild spent
 * 7–9 s in such GCs at 5,000, ~4 s at 1,000 (bench/README.md). Smaller pages
 * did not help further; each is still a transaction.
 */
export const REBUILD_PAGE_SIZE = 1000;

const silent: ProjectorLogger = { log: () => undefined, error: () => undefined };

/**
 * Keeps the read model up with the log: a catch-up subscription from the
 * read model's checkpoint, each batch applied in one transaction with the
 * checkpoint. Commands wait on it (waitFor) so that their caller reads its
 * own writes; the live feed listens to it (onChanges) so that a pushed entry
 * is already queryable.
 *
 * Two kinds of failure, handled differently:
 * - a poison event, one the projection cannot apply because of what it says
 *   (an entry that does not exist, data of the wrong shape), is set aside by
 *   the read model as a dead letter, in the transaction that moves the
 *   checkpoint past it; the projector goes on (see TimelineReadModel.project);
 * - a failure to read the log or to write the read model (store unreachable,
 *   disk full, locked) changes nothing: the projector records it in
 *   `lastError`, waits `retryDelayMs` and resumes from the checkpoint, for as
 *   long as it takes. `lastError` clears once a batch is applied, or once the
 *   store answers again and there is nothing left to apply.
 */
export class Projector {
  private subscription: EventSubscription | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  private waiters: Waiter[] = [];
  private readonly listeners = new Set<(changes: EntryChange[]) => void>();
  /** While publishInTurn is part-way through a batch: the first change not yet published, which nothing from it on may be answered before. */
  private unpublishedFrom: Position | null = null;
  /** The last error that interrupted projecting, for health checks; cleared on recovery (see above). */
  lastError: unknown = null;
  /** When projecting started failing (the first error of the current run of failures), or null. */
  failingSince: Date | null = null;

  constructor(
    private readonly store: EventStore,
    private readonly readModel: TimelineReadModel,
    private readonly logger: ProjectorLogger = silent,
    private readonly retryDelayMs = 1000,
  ) {}

  get checkpoint(): Position | null {
    return this.readModel.checkpoint();
  }

  /** How many events were set aside as dead letters (TimelineReadModel.deadLetters() lists them). */
  get deadLetters(): number {
    return this.readModel.deadLetterCount();
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.running = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.subscription?.close();
    await this.running;
    this.running = null;
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.resolve(false);
    }
  }

  /** Resolves true once the read model has applied `position`, false on timeout or stop. */
  waitFor(position: Position, timeoutMs = 10_000): Promise<boolean> {
    if (this.answerable(position)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        position,
        resolve,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve(false);
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  onChanges(listener: (changes: EntryChange[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Drops the read model and replays the whole log into it. Reads pages
   * directly rather than through a subscription: same order, less overhead;
   * and applies them through the read model's rebuild path (startRebuild),
   * which folds each page in memory and builds the query indexes at the end.
   */
  rebuild(onProgress?: (progress: RebuildProgress) => void, options?: { digest?: true }): Promise<RebuildResult<string>>;
  rebuild(onProgress: ((progress: RebuildProgress) => void) | undefined, options: { digest: false }): Promise<RebuildResult<null>>;
  async rebuild(
    onProgress?: (progress: RebuildProgress) => void,
    options: { digest?: boolean } = {},
  ): Promise<RebuildResult<string | null>> {
    const wasRunning = !this.stopped;
    await this.stop();
    const rebuild = this.readModel.startRebuild();
    let events = 0;
    let after: Position | undefined;
    try {
      for (;;) {
        const page = await this.store.readAll({ after, limit: REBUILD_PAGE_SIZE });
        if (page.length === 0) break;
        rebuild.project(page);
        events += page.length;
        after = page[page.length - 1].position;
        onProgress?.({ events, position: after });
      }
    } catch (error) {
      // Still build the indexes (the read model stays usable at its checkpoint), but report the first failure.
      try {
        rebuild.finish();
      } catch {
        // the database is failing: the error above says why
      }
      throw error;
    }
    rebuild.finish();
    if (wasRunning) this.start();
    // The digest reads every table again (about a fifth of a rebuild's time): for
    // those who compare, such as the CLI; a benchmark of the replay itself skips it.
    const digest = options.digest === false ? null : this.readModel.digest();
    return { events, digest, deadLetters: this.readModel.deadLetterCount() };
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (this.lastError !== null) await this.clearErrorIfCaughtUp();
        this.subscription = this.store.subscribeToAll({ after: this.readModel.checkpoint() ?? undefined });
        for await (const batch of this.subscription) {
          const changes = this.applyBatch(batch);
          this.setError(null);
          await this.publishInTurn(changes);
        }
      } catch (error) {
        // Never skip: log, wait, and resume from the checkpoint, which still
        // points before the batch that failed (nothing of it was committed).
        this.setError(error);
        this.logger.error(`projection stopped at ${this.readModel.checkpoint() ?? 'the start'}; retrying in ${this.retryDelayMs} ms`, error);
        await this.subscription?.close();
        if (!this.stopped) await new Promise((r) => setTimeout(r, this.retryDelayMs));
      }
    }
  }

  /**
   * One transaction per batch, checkpoint included, is what makes replay fast
   * and exactly-once. Poison events come back as dead letters (already
   * recorded); any other failure throws with nothing applied.
   */
  private applyBatch(batch: RecordedEvent[]): EntryChange[] {
    const { changes, deadLetters } = this.readModel.project(batch);
    for (const letter of deadLetters) {
      this.logger.error(
        `the event at ${letter.position} (${letter.type}, ${letter.stream} revision ${letter.revision}) cannot be projected; ` +
          `set aside as a dead letter (${this.readModel.deadLetterCount()} in all): ${letter.error}`,
      );
    }
    return changes;
  }

  /**
   * After a failure: if the store answers again and the read model is already
   * at its head, there is nothing left that could fail, so the failure is
   * over even though no batch will come to prove it. Throws while the store
   * cannot be read.
   */
  private async clearErrorIfCaughtUp(): Promise<void> {
    const head = await this.store.headPosition();
    const checkpoint = this.readModel.checkpoint();
    if (head === null || (checkpoint !== null && checkpoint >= head)) this.setError(null);
  }

  private setError(error: unknown): void {
    if (error === null) {
      if (this.lastError !== null) this.logger.log(`projection resumed at ${this.readModel.checkpoint() ?? 'the start'}`);
      this.lastError = null;
      this.failingSince = null;
      return;
    }
    this.lastError = error;
    this.failingSince ??= new Date();
  }

  /**
   * Publishes a committed batch one change at a time, each followed by
   * answering the commands that wrote it. Group commit puts every command
   * that arrived together into one batch. Publishing the batch whole and then
   * answering them all queued the later changes in each socket's write buffer
   * (engine.io writes one packet per socket, then waits for that write's
   * callback, which comes on process.nextTick) and answered every command only
   * after the last change had gone to every subscriber.
   *
   * Between two changes this waits for process.nextTick, not for a turn of
   * the event loop: the commands just answered (promise jobs) write their
   * responses first, then the sockets' write callbacks run (next ticks, in
   * order), then the next change goes out. No new request is read meanwhile,
   * so the batch is not stretched (setImmediate here cost http_record ~20%).
   * Nobody is answered later than before.
   */
  private async publishInTurn(changes: EntryChange[]): Promise<void> {
    for (let i = 0; i < changes.length; i++) {
      if (i > 0) await new Promise((resolve) => process.nextTick(resolve));
      this.publish([changes[i]]);
      this.unpublishedFrom = i + 1 < changes.length ? changes[i + 1].position : null;
      this.release();
    }
    if (changes.length === 0) this.release(); // a batch of events that changed no entry (a timeline opened, unknown types)
  }

  /** Whether the command that wrote `position` may be answered: it is applied, and no change before it waits to be published. */
  private answerable(position: Position): boolean {
    const checkpoint = this.readModel.checkpoint();
    return checkpoint !== null && position <= checkpoint && (this.unpublishedFrom === null || position < this.unpublishedFrom);
  }

  private release(): void {
    if (this.waiters.length === 0) return;
    const [done, pending] = partition(this.waiters, (w) => this.answerable(w.position));
    this.waiters = pending;
    for (const w of done) {
      clearTimeout(w.timer);
      w.resolve(true);
    }
  }

  private publish(changes: EntryChange[]): void {
    for (const listener of this.listeners) {
      try {
        listener(changes);
      } catch (error) {
        this.logger.error('a change listener failed', error);
      }
    }
  }
}

function partition<T>(items: T[], test: (item: T) => boolean): [T[], T[]] {
  const yes: T[] = [];
  const no: T[] = [];
  for (const item of items) (test(item) ? yes : no).push(item);
  return [yes, no];
}
