import { Inject, Injectable } from '@nestjs/common';
import { entryStream, EntryNotFoundError, TimelineNotFoundError } from '@timeline/domain';
import type { HistoryItem, LogItem, LogPage } from '@timeline/contracts';
import type { EventStore, Position, RecordedEvent } from '@timeline/event-store';
import { toTimelineJs, type EntryView, type TimelineJsDocument, TIMELINE_READ_MODEL, type TimelineReadModel } from '@timeline/projections';
import { RequestValidationError } from '../common/request-validation';
import { EVENT_STORE } from '../store/store.tokens';

/** What auditors ask: the history of an entry, the raw log, and exports. */
@Injectable()
export class AuditService {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(TIMELINE_READ_MODEL) private readonly readModel: TimelineReadModel,
  ) {}

  /** Every event of the entry, oldest first, straight from the log. */
  async history(entryId: string): Promise<HistoryItem[]> {
    const events = await this.store.readStream(entryStream(entryId));
    if (events.length === 0) throw new EntryNotFoundError(entryId);
    return events.map((e) => ({
      type: e.type,
      revision: e.revision,
      position: e.position,
      recordedAt: e.recordedAt,
      recordedBy: e.metadata.recordedBy,
      data: e.data,
      metadata: e.metadata,
    }));
  }

  async page(after: Position | undefined, limit: number): Promise<LogPage> {
    this.assertPosition(after);
    const items = (await this.store.readAll({ after, limit })).map(logItem);
    // A full page may have more behind it; a short one is the end of the log for now.
    return { items, next: items.length === limit ? items[items.length - 1].position : null };
  }

  /** The log from `after`, a page at a time: the caller writes each page before asking for the next. */
  async *all(after: Position | undefined): AsyncGenerator<LogItem[]> {
    this.assertPosition(after);
    for (;;) {
      const page = await this.store.readAll({ after, limit: 1000 });
      if (page.length === 0) return;
      yield page.map(logItem);
      after = page[page.length - 1].position;
    }
  }

  /** Both stores' positions pass the query's pattern; only this store's own mean anything here. */
  private assertPosition(after: Position | undefined): void {
    if (after !== undefined && !this.store.isPosition(after)) {
      throw new RequestValidationError([{ field: 'after', problems: ['after is not a position of this event store'] }]);
    }
  }

  timelineJs(slug: string): TimelineJsDocument {
    const timeline = this.readModel.timeline(slug);
    if (!timeline) throw new TimelineNotFoundError(slug);
    const entries: EntryView[] = [];
    let cursor: string | undefined;
    do {
      const page = this.readModel.entries({ timeline: slug, order: 'asc', limit: 500, cursor, includeRetracted: false });
      entries.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return toTimelineJs(timeline, entries);
  }
}

/** One line of the log, everything needed to import it again: GET /events and the CLI's export write exactly this. */
export function logItem(e: RecordedEvent): LogItem {
  return { position: e.position, id: e.id, stream: e.stream, type: e.type, revision: e.revision, recordedAt: e.recordedAt, data: e.data, metadata: e.metadata };
}
