import type { Decider } from '../decider';
import { TimelineAlreadyExistsError } from '../domain.errors';
import { unreachable } from '../unreachable';

/** Commands are imperatives, events are past-tense facts. */
export interface OpenTimeline {
  type: 'OpenTimeline';
  slug: string;
  title: string;
  description: string;
}

export interface TimelineOpened {
  type: 'TimelineOpened';
  data: { slug: string; title: string; description: string };
}

export type TimelineCommand = OpenTimeline;
export type TimelineEvent = TimelineOpened;

export type TimelineState = { status: 'none' } | { status: 'open'; slug: string; title: string; description: string };

export const initialTimelineState = (): TimelineState => ({ status: 'none' });

export function decideTimeline(command: TimelineCommand, state: TimelineState): TimelineEvent[] {
  switch (command.type) {
    case 'OpenTimeline':
      if (state.status !== 'none') throw new TimelineAlreadyExistsError(command.slug);
      return [{ type: 'TimelineOpened', data: { slug: command.slug, title: command.title, description: command.description } }];
    default:
      return unreachable(command.type);
  }
}

export function evolveTimeline(state: TimelineState, event: TimelineEvent): TimelineState {
  switch (event.type) {
    case 'TimelineOpened':
      return { status: 'open', ...event.data };
    default:
      return unreachable(event.type);
  }
}

export const timelineDecider: Decider<TimelineCommand, TimelineEvent, TimelineState> = {
  decide: decideTimeline,
  evolve: evolveTimeline,
  initialState: initialTimelineState,
  eventTypes: new Set<TimelineEvent['type']>(['TimelineOpened']),
};
