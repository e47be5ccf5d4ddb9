/**
 * Emmett-style specification tests: given these events, when this command,
 * then these events (or this error). Keeps domain tests reading like the domain.
 */
export interface Decider<Command, Event, State> {
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
}

export function specification<Command, Event, State>(decider: Decider<Command, Event, State>) {
  return (given: Event[]) => ({
    when(command: Command) {
      const run = () => decider.decide(command, given.reduce(decider.evolve, decider.initialState()));
      return {
        then(expected: Event[]) {
          expect(run()).toEqual(expected);
        },
        thenNothingHappens() {
          expect(run()).toEqual([]);
        },
        thenThrows<E extends Error>(type: new (...args: never[]) => E, check?: (error: E) => void) {
          let thrown: unknown;
          try {
            run();
          } catch (error) {
            thrown = error;
          }
          expect(thrown).toBeInstanceOf(type);
          check?.(thrown as E);
        },
      };
    },
  });
}
