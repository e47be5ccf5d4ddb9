/** The default of an exhaustive switch: a new command or event kind is a compile error until every switch handles it. */
export function unreachable(value: never): never {
  throw new Error(`unhandled: ${JSON.stringify(value)}`);
}
