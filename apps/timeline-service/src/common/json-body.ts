/**
 * JSON.parse reviver for request bodies. "__proto__" and friends have no place
 * in our payloads, and refusing them while parsing means no later step (class
 * transformation, object spreads) ever sees them.
 */
export function rejectPrototypeKeys(key: string, value: unknown): unknown {
  if (key === '__proto__' || key === 'constructor' || key === 'prototype') {
    throw new SyntaxError(`field "${key}" is not allowed`);
  }
  return value;
}
