import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { timelineDecider, timelineStream, TimelineNotFoundError } from '@timeline/domain';
import type { TimelineOpened } from '@timeline/contracts';
import type { EventStore } from '@timeline/event-store';
import { Projector, TIMELINE_READ_MODEL, type TimelineReadModel, type TimelineView } from '@timeline/projections';
import { handleCommand } from '../common/command-handler';
import type { CommandContext } from '../common/command-context';
import { EVENT_STORE } from '../store/store.tokens';
import { awaitProjection } from '../common/read-your-writes';

@Injectable()
export class TimelinesService {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(TIMELINE_READ_MODEL) private readonly readModel: TimelineReadModel,
    private readonly projector: Projector,
  ) {}

  /** Slugs found in the log (bounded: a slug that falls out is read again). */
  private readonly known = new LRUCache<string, true>({ max: 10_000 });

  async open(slug: string, title: string, description: string, context: CommandContext): Promise<TimelineOpened> {
    const { appended } = await handleCommand(
      this.store,
      timelineStream(slug),
      timelineDecider,
      { type: 'OpenTimeline', slug, title, description },
      context,
    );
    // decideTimeline never answers "nothing to do": a second open is a conflict.
    const position = appended!.position;
    await awaitProjection(this.projector, position);
    return { slug, position };
  }

  list(): TimelineView[] {
    return this.readModel.timelines();
  }

  get(slug: string): TimelineView {
    const timeline = this.readModel.timeline(slug);
    if (!timeline) throw new TimelineNotFoundError(slug);
    return timeline;
  }

  /**
   * Commands check the log, not the read model, which may lag behind another
   * instance's writes. A timeline is never closed or deleted (its stream has
   * one event, TimelineOpened, and the log only grows), so once found it is
   * remembered and not read again.
   */
  async assertExists(slug: string): Promise<void> {
    if (this.known.has(slug)) return;
    const events = await this.store.readStream(timelineStream(slug), { maxCount: 1 });
    if (events.length === 0) throw new TimelineNotFoundError(slug);
    this.known.set(slug, true);
  }
}
