import { Inject, Injectable } from '@nestjs/common';
import {
  entryDecider,
  entryStream,
  EntryNotFoundError,
  foldStream,
  InvalidCommandError,
  type EntryChanges,
  type EntryCommand,
  type EntryDetails,
  type EntryState,
} from '@timeline/domain';
import type { EntryPage, EntryWritten } from '@timeline/contracts';
import type { EventStore } from '@timeline/event-store';
import { Projector, type EntryListQuery, type EntryView, TIMELINE_READ_MODEL, type TimelineReadModel } from '@timeline/projections';
import { handleCommand } from '../common/command-handler';
import { newId } from '../common/ids';
import type { CommandContext } from '../common/command-context';
import { awaitProjection } from '../common/read-your-writes';
import { validateInto } from '../common/request-validation';
import { isInstant } from '../common/validators';
import { EVENT_STORE } from '../store/store.tokens';
import { TimelinesService } from '../timelines/timelines.service';
import { CHANGES_DTO_OF_KIND } from './dto/correct-entry.dto';
import { PageCache, type CachedPage } from './page-cache';
import type { RecordEntryDto } from './dto/record-entry.dto';

@Injectable()
export class EntriesService {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(TIMELINE_READ_MODEL) private readonly readModel: TimelineReadModel,
    private readonly projector: Projector,
    private readonly timelines: TimelinesService,
  ) {}

  private readonly pages = new PageCache();

  async record(timeline: string, dto: RecordEntryDto, context: CommandContext): Promise<EntryWritten> {
    await this.timelines.assertExists(timeline);
    const entryId = dto.entryId ?? newId();
    const details = toDetails(dto);
    await this.assertRelatedExist(details.relatedTo.filter((id) => id !== entryId)); // a self-reference is the domain's to refuse
    const { history, appended } = await handleCommand(
      this.store,
      entryStream(entryId),
      entryDecider,
      { type: 'RecordEntry', entryId, timeline, details },
      context,
      { newStream: dto.entryId === undefined }, // an id we just made has no stream to read
    );
    // A retry of a recording that succeeded answers as the original did.
    const position = appended?.position ?? history[0].position;
    await awaitProjection(this.projector, position);
    return { entryId, revision: 0, position };
  }

  async correct(entryId: string, expectedRevision: number, changes: Record<string, unknown>, reason: string, context: CommandContext) {
    const kind = (await this.load(entryId)).details.kind;
    // The kind decides which fields exist, so the changes are validated only now.
    const checked = plain(validateInto(CHANGES_DTO_OF_KIND[kind], changes, 'changes')) as EntryChanges;
    if (checked.relatedTo) await this.assertRelatedExist(checked.relatedTo.filter((id) => id !== entryId), 'changes.relatedTo');
    return this.write(entryId, { type: 'CorrectEntry', entryId, expectedRevision, changes: checked, reason }, context);
  }

  retract(entryId: string, expectedRevision: number | undefined, reason: string, context: CommandContext) {
    return this.write(entryId, { type: 'RetractEntry', entryId, expectedRevision, reason }, context);
  }

  get(entryId: string): EntryView {
    const entry = this.readModel.entry(entryId);
    if (!entry) throw new EntryNotFoundError(entryId);
    return entry;
  }

  /** A page serialized, from the page cache when the read model has not moved since it was built. */
  listSerialized(query: EntryListQuery, asOf?: string): CachedPage {
    return this.pages.get(JSON.stringify([query, asOf]), this.readModel.checkpoint(), () => this.list(query, asOf));
  }

  list(query: EntryListQuery, asOf?: string): EntryPage {
    this.timelines.get(query.timeline); // 404 for an unknown timeline, not an empty page
    // The index holds the entries as they stand, not as they stood.
    if (asOf !== undefined && query.q !== undefined) throw new InvalidCommandError('q', 'cannot be combined with asOf');
    if (asOf === undefined) {
      // One synchronous read: the page and the checkpoint describe the same moment.
      return { ...this.readModel.entries(query), position: this.readModel.checkpoint() };
    }
    // An instant means: the last change recorded at or before it. Before the
    // first change there is nothing, which the empty position says.
    const position = isInstant(asOf) ? this.readModel.positionAt(query.timeline, new Date(asOf).toISOString()) : asOf;
    return { ...this.readModel.entriesAsOf(query, position ?? ''), position, asOf };
  }

  private async write(entryId: string, command: EntryCommand, context: CommandContext): Promise<EntryWritten> {
    const { appended } = await handleCommand(this.store, entryStream(entryId), entryDecider, command, context);
    // Corrections and retractions always append (or throw), never answer "nothing to do".
    await awaitProjection(this.projector, appended!.position);
    return { entryId, revision: appended!.revision, position: appended!.position };
  }

  private async load(entryId: string): Promise<Extract<EntryState, { entryId: string }>> {
    const state = foldStream(entryDecider, await this.store.readStream(entryStream(entryId)));
    if (state.status === 'none') throw new EntryNotFoundError(entryId);
    return state;
  }

  private async assertRelatedExist(relatedTo: string[], field = 'relatedTo'): Promise<void> {
    for (const [i, id] of relatedTo.entries()) {
      const events = await this.store.readStream(entryStream(id), { maxCount: 1 });
      if (events.length === 0) throw new InvalidCommandError(`${field}.${i}`, `refers to unknown entry ${id}`);
    }
  }
}

/** DTO instances to plain data: what is stored, and what a retry is compared with. */
function toDetails(dto: RecordEntryDto): EntryDetails {
  const { entryId: _entryId, ...fields } = plain(dto) as RecordEntryDto;
  return Object.assign(fields, { sources: fields.sources ?? [], tags: fields.tags ?? [], relatedTo: fields.relatedTo ?? [] }) as EntryDetails;
}

function plain(value: object): unknown {
  return JSON.parse(JSON.stringify(value));
}
