/**
 * Emmett's decider, plus the event types it folds. One shape for the
 * service's command handler, the services' loads and the specification tests.
 */
export interface Decider<Command, Event extends { type: string; data: object }, State> {
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
  /** Event types this decider folds; others in its stream (future kinds) are passed over. */
  eventTypes: ReadonlySet<string>;
}

/**
 * A stream's events as any store returns them. The domain does not depend on
 * the store: the fold reads only the type and data, and rebuilds each event
 * from those two so that nothing else (positions, metadata) reaches evolve.
 */
export interface StreamEvent {
  type: string;
  data: unknown;
}

/** The state a stream's history comes to. */
export function foldStream<Event extends { type: string; data: object }, State>(
  decider: Pick<Decider<never, Event, State>, 'evolve' | 'initialState' | 'eventTypes'>,
  history: readonly StreamEvent[],
): State {
  let state = decider.initialState();
  for (const event of history) {
    if (decider.eventTypes.has(event.type)) state = decider.evolve(state, { type: event.type, data: event.data } as Event);
  }
  return state;
}
