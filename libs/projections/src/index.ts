export * from './read-model/entry-view';
export { TIMELINE_READ_MODEL, type TimelineReadModel, type ProjectionResult, type ReadModelRebuild } from './read-model/timeline-read-model.port';
export { SqliteReadModel, type SqliteReadModelOptions } from './read-model/sqlite-read-model';
export { isInfrastructureFailure, type DeadLetter } from './read-model/dead-letters';
export { InvalidCursorError, type EntryListQuery, type EntryPage, type SearchQuery } from './read-model/entry-queries';
export { InvalidSearchQueryError, MAX_SEARCH_TERMS } from './read-model/search-query';
export type { EntryChange } from './read-model/timeline.projection';
export { Projector, REBUILD_PAGE_SIZE, type ProjectorLogger, type RebuildProgress } from './projector/projector';
export { toTimelineJs, type TimelineJsDocument, type TimelineJsEvent } from './exports/timelinejs';
