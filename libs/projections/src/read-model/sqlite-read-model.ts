import type { RecordedEvent, Position } from '@timeline/event-store';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { listEntries, listEntriesAsOf, type EntryListQuery, type EntryPage } from './entry-queries';
import type { EntryView, TimelineView } from './entry-view';
import { READ_MODEL_SCHEMA, READ_MODEL_TABLES, READ_MODEL_VERSION } from './read-model.schema';
import { projectEvent, type EntryChange, type ProjectionTarget } from './timeline.projection';

interface TimelineRow {
  slug: string;
  title: string;
  description: string;
  entry_count: number;
  retracted_count: number;
  opened_at: string;
  updated_at: string;
  position: string;
}

/**
 * The timeline read model in SQLite.
 *
 * Every batch of events and the checkpoint are written in one transaction, so
 * a crash leaves the read model at a checkpoint it fully reflects: no event is
 * applied twice, none skipped. Events at or before the checkpoint are ignored,
 * which makes re-delivery harmless.
 *
 * synchronous=NORMAL (not FULL): after a power loss the read model may lose its
 * last transactions, but it loses them together with their checkpoint and
 * simply re-applies them from the log. The log itself is what must be durable.
 */
export class SqliteReadModel {
  private readonly db: Database.Database;
  private readonly statements;
  private cachedCheckpoint: Position | null;

  constructor(readonly file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.migrate();
    const db = this.db;
    this.statements = {
      checkpoint: db.prepare(`SELECT position FROM checkpoint WHERE id = 1`),
      saveCheckpoint: db.prepare(
        `INSERT INTO checkpoint (id, position) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET position = excluded.position`,
      ),
      timeline: db.prepare(`SELECT * FROM timelines WHERE slug = ?`),
      timelines: db.prepare(`SELECT * FROM timelines ORDER BY slug`),
      saveTimeline: db.prepare(
        `INSERT INTO timelines (slug, title, description, entry_count, retracted_count, opened_at, updated_at, position)
         VALUES (@slug, @title, @description, @entryCount, @retractedCount, @openedAt, @updatedAt, @position)
         ON CONFLICT (slug) DO UPDATE SET title = excluded.title, description = excluded.description,
           entry_count = excluded.entry_count, retracted_count = excluded.retracted_count,
           updated_at = excluded.updated_at, position = excluded.position`,
      ),
      entry: db.prepare(`SELECT body FROM entries WHERE entry_id = ?`),
      saveEntry: db.prepare(
        `INSERT INTO entries (entry_id, timeline, kind, occurred_on, recorded_position, status, body)
         VALUES (@entryId, @timeline, @kind, @occurredOn, @position, @status, @body)
         ON CONFLICT (entry_id) DO UPDATE SET occurred_on = excluded.occurred_on, status = excluded.status, body = excluded.body`,
      ),
      clearActors: db.prepare(`DELETE FROM entry_actors WHERE entry_id = ?`),
      addActor: db.prepare(`INSERT OR IGNORE INTO entry_actors (entry_id, actor) VALUES (?, ?)`),
      saveChange: db.prepare(
        `INSERT INTO changes (position, timeline, type, entry_id, kind, occurred_on, status, recorded_position, recorded_at, entry)
         VALUES (@position, @timeline, @type, @entryId, @kind, @occurredOn, @status,
           (SELECT recorded_position FROM entries WHERE entry_id = @entryId), @recordedAt, @entry)`,
      ),
      lastChangeAt: db.prepare(`SELECT MAX(position) AS position FROM changes WHERE timeline = ? AND recorded_at <= ?`),
      changesSince: db.prepare(
        `SELECT position, timeline, type, entry FROM changes WHERE timeline = ? AND position > ? ORDER BY position LIMIT ?`,
      ),
    };
    this.cachedCheckpoint = this.readCheckpoint();
  }

  /** The position of the last event applied, or null before the first. */
  checkpoint(): Position | null {
    return this.cachedCheckpoint;
  }

  /** Applies a batch in one transaction; returns the entry changes it made, in log order. */
  apply(events: RecordedEvent[]): EntryChange[] {
    const fresh = this.cachedCheckpoint === null ? events : events.filter((e) => e.position > this.cachedCheckpoint!);
    if (fresh.length === 0) return [];
    const changes: EntryChange[] = [];
    this.db.transaction(() => {
      for (const event of fresh) {
        const change = projectEvent(this.target, event);
        if (change) {
          this.statements.saveChange.run({
            position: change.position,
            timeline: change.timeline,
            type: change.type,
            entryId: change.entry.entryId,
            kind: change.entry.kind,
            occurredOn: change.entry.occurredOn,
            status: change.entry.status,
            recordedAt: event.recordedAt,
            entry: this.serialized.get(change.entry) ?? JSON.stringify(change.entry),
          });
          changes.push(change);
        }
      }
      this.statements.saveCheckpoint.run(fresh[fresh.length - 1].position);
    })();
    this.cachedCheckpoint = fresh[fresh.length - 1].position;
    return changes;
  }

  /** Empties every table, checkpoint included: the first step of a rebuild. */
  reset(): void {
    this.db.transaction(() => {
      for (const table of READ_MODEL_TABLES) this.db.exec(`DELETE FROM ${table}`);
    })();
    this.cachedCheckpoint = null;
  }

  timeline(slug: string): TimelineView | undefined {
    const row = this.statements.timeline.get(slug) as TimelineRow | undefined;
    return row && toTimelineView(row);
  }

  timelines(): TimelineView[] {
    return (this.statements.timelines.all() as TimelineRow[]).map(toTimelineView);
  }

  entry(entryId: string): EntryView | undefined {
    const row = this.statements.entry.get(entryId) as { body: string } | undefined;
    return row && (JSON.parse(row.body) as EntryView);
  }

  entries(query: EntryListQuery): EntryPage {
    return listEntries(this.db, query);
  }

  /** The timeline's entries exactly as they stood once the log reached `position`. */
  entriesAsOf(query: EntryListQuery, position: Position): EntryPage {
    return listEntriesAsOf(this.db, query, position);
  }

  /** The position of the timeline's last change recorded at or before `instant` (ISO-8601), or null. */
  positionAt(timeline: string, instant: string): Position | null {
    return (this.statements.lastChangeAt.get(timeline, instant) as { position: string | null }).position;
  }

  /** Changes to one timeline strictly after `after`, in log order: what a resuming live client missed. */
  changesSince(timeline: string, after: Position | null, limit: number): EntryChange[] {
    const rows = this.statements.changesSince.all(timeline, after ?? '', limit) as Array<{
      position: string;
      timeline: string;
      type: EntryChange['type'];
      entry: string;
    }>;
    return rows.map((r) => ({ position: r.position, timeline: r.timeline, type: r.type, entry: JSON.parse(r.entry) as EntryView }));
  }

  /**
   * SHA-256 over every table in a fixed order: equal digests mean equal read
   * models, which is how a rebuild proves it reproduced the original.
   */
  digest(): string {
    const hash = createHash('sha256');
    for (const table of READ_MODEL_TABLES) {
      hash.update(`\u0000${table}\u0000`);
      for (const row of this.db.prepare(`SELECT * FROM ${table} ORDER BY 1, 2`).iterate()) {
        hash.update(JSON.stringify(row));
        hash.update('\n');
      }
    }
    return hash.digest('hex');
  }

  close(): void {
    this.db.close();
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version !== READ_MODEL_VERSION) {
      this.db.transaction(() => {
        for (const table of READ_MODEL_TABLES) this.db.exec(`DROP TABLE IF EXISTS ${table}`);
        this.db.exec(READ_MODEL_SCHEMA);
        this.db.pragma(`user_version = ${READ_MODEL_VERSION}`);
      })();
    }
  }

  private readCheckpoint(): Position | null {
    const row = this.statements.checkpoint.get() as { position: string } | undefined;
    return row?.position ?? null;
  }

  /** Each entry version is serialized once, for its row and for the change log alike. */
  private readonly serialized = new WeakMap<EntryView, string>();

  private readonly target: ProjectionTarget = {
    timeline: (slug) => this.timeline(slug),
    saveTimeline: (view) => this.statements.saveTimeline.run(view),
    entry: (entryId) => this.entry(entryId),
    saveEntry: (view) => {
      const body = JSON.stringify(view);
      this.serialized.set(view, body);
      this.statements.saveEntry.run({
        entryId: view.entryId,
        timeline: view.timeline,
        kind: view.kind,
        occurredOn: view.occurredOn,
        position: view.position,
        status: view.status,
        body,
      });
      this.statements.clearActors.run(view.entryId);
      for (const actor of view.actors) this.statements.addActor.run(view.entryId, actor);
    },
  };
}

function toTimelineView(row: TimelineRow): TimelineView {
  return {
    slug: row.slug,
    title: row.title,
    description: row.description,
    entryCount: row.entry_count,
    retractedCount: row.retracted_count,
    openedAt: row.opened_at,
    updatedAt: row.updated_at,
    position: row.position,
  };
}
