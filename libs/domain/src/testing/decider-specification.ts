import type { Decider } from '../decider';

/**
 * Emmett-style specification tests: given these events, when this command,
 * then these events (or this error). Keeps domain tests reading like the domain.
 *
 * Why not Emmett's own `DeciderSpecification` (0.38.5, the version the
 * benchmarks pin): its `then` checks that each expected event is a subset of
 * some decided event, in any order. So it passes when a decision adds a field
 * (a kind's event carrying another kind's field) or emits events out of order,
 * and it fails outright on a null inside an event (`changes: { place: null }`,
 * how a correction removes a field: its subset check asserts on null). This
 * one asserts the decided events are exactly the expected ones (`toEqual`),
 * and `thenThrows` takes a check that uses `expect`, so a failure names the field.
 */
export function specification<Command, Event extends { type: string; data: object }, State>(
  decider: Pick<Decider<Command, Event, State>, 'decide' | 'evolve' | 'initialState'>,
) {
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
