const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * JSON.parse reviver for request bodies. "__proto__" and friends have no place
 * in our payloads, and refusing them while parsing means no later step (class
 * transformation, object spreads) ever sees them.
 */
export function rejectPrototypeKeys(key: string, value: unknown): unknown {
  if (FORBIDDEN_KEYS.has(key)) throw new SyntaxError(`field "${key}" is not allowed`);
  return value;
}

/**
 * The same rule for values parsed elsewhere (socket.io payloads): the path of
 * the first forbidden key, or null. class-transformer would silently drop
 * these keys, so "unknown fields are refused" would not hold without it.
 */
export function findPrototypeKey(value: unknown, path = ''): string | null {
  if (value === null || typeof value !== 'object') return null;
  for (const key of Object.keys(value)) {
    const here = path ? `${path}.${key}` : key;
    if (FORBIDDEN_KEYS.has(key)) return here;
    const nested = findPrototypeKey((value as Record<string, unknown>)[key], here);
    if (nested) return nested;
  }
  return null;
}
