import { chainEvents } from '@timeline/audit';
import { foldStream, type Decider } from '@timeline/domain';
import {
  WrongExpectedVersionError,
  type AppendResult,
  type EventStore,
  type RecordedEvent,
} from '@timeline/event-store';
import type { CommandContext } from './command-context';
import { metadataOf } from './command-context';
import { newId } from './ids';

export interface Handled<State> {
  /** The stream as it was when the decision was made. */
  history: RecordedEvent[];
  state: State;
  /** null when the decision was that nothing needs to happen (an idempotent retry). */
  appended: AppendResult | null;
}

const ATTEMPTS = 5;

export interface CommandOptions {
  /**
   * The stream's name was minted for this command (a fresh UUIDv7), so it has
   * no history and the first attempt does not read it. Nothing rests on the
   * guess: the append expects no stream, and if one exists after all the
   * store says WrongExpectedVersion and the retry reads it.
   */
  newStream?: boolean;
}

/**
 * Load, decide, append at the revision we decided on. If another writer got
 * there first the store says WrongExpectedVersion and we decide again on the
 * new state: the domain then answers as it should (a stale If-Match, an
 * already-opened timeline, a retry that needs nothing).
 */
export async function handleCommand<Command, Event extends { type: string; data: object }, State>(
  store: EventStore,
  stream: string,
  decider: Decider<Command, Event, State>,
  command: Command,
  context: CommandContext,
  options: CommandOptions = {},
): Promise<Handled<State>> {
  for (let attempt = 1; ; attempt++) {
    const history = attempt === 1 && options.newStream ? [] : await store.readStream(stream);
    const state = foldStream(decider, history);
    const events = decider.decide(command, state);
    if (events.length === 0) return { history, state, appended: null };
    const expected = history.length === 0 ? 'no-stream' : history[history.length - 1].revision;
    try {
      const fresh = events.map((e) => ({ id: newId(), type: e.type, data: e.data as Record<string, unknown>, metadata: metadataOf(context) }));
      // Chained to the history we decided on; if another writer got in first, the
      // append fails with WrongExpectedVersion and the chain is rebuilt on retry.
      const appended = await store.append(stream, chainEvents(history, fresh), expected);
      return { history, state, appended };
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError) || attempt >= ATTEMPTS) throw error;
    }
  }
}
