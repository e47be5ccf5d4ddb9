import type { Position, RecordedEvent } from '@timeline/event-store';
import type Database from 'better-sqlite3';
import type { DeadLetter } from './dead-letters';

interface DeadLetterRow {
  position: string;
  stream: string;
  type: string;
  revision: number;
  error: string;
  event: string;
  recorded_at: string;
}

/**
 * The `dead_letters` table: written inside the projection's transaction (see
 * SqliteReadModel.project), counted in memory for health checks.
 */
export class DeadLetterTable {
  private readonly s;
  private cachedCount: number;

  constructor(db: Database.Database) {
    this.s = {
      save: db.prepare(
        `INSERT INTO dead_letters (position, stream, type, revision, error, event, recorded_at)
         VALUES (@position, @stream, @type, @revision, @error, @event, @recordedAt)`,
      ),
      count: db.prepare(`SELECT COUNT(*) AS count FROM dead_letters`),
      list: db.prepare(`SELECT * FROM dead_letters WHERE position > ? ORDER BY position LIMIT ?`),
    };
    this.cachedCount = this.readCount();
  }

  /** Records the letter; inside the caller's transaction. Call `saved` once that transaction commits. */
  save(letter: DeadLetter): void {
    this.s.save.run({ ...letter, event: JSON.stringify(letter.event) });
  }

  /** After a commit that saved `count` letters. */
  saved(count: number): void {
    this.cachedCount += count;
  }

  /** After the table was emptied. */
  emptied(): void {
    this.cachedCount = 0;
  }

  count(): number {
    return this.cachedCount;
  }

  list(options: { after?: Position; limit?: number } = {}): DeadLetter[] {
    const rows = this.s.list.all(options.after ?? '', Math.min(Math.max(options.limit ?? 100, 1), 1000)) as DeadLetterRow[];
    return rows.map((r) => ({
      position: r.position,
      stream: r.stream,
      type: r.type,
      revision: r.revision,
      error: r.error,
      event: JSON.parse(r.event) as RecordedEvent,
      recordedAt: r.recorded_at,
    }));
  }

  private readCount(): number {
    return (this.s.count.get() as { count: number }).count;
  }
}
