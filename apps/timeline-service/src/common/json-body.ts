/**
 * Keys no payload of ours has, and which could reach objects' prototypes (or,
 * for Object.prototype's own members like `toString`, slip past the "unknown
 * field" check, which looks them up on the DTO instance and finds them).
 */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype', ...Object.getOwnPropertyNames(Object.prototype)]);

/** Far deeper than any valid payload (at most 4 levels), far shallower than what overflows a stack. */
export const MAX_DEPTH = 32;

/**
 * JSON.parse reviver for request bodies: refusing these keys while parsing
 * means no later step (class transformation, object spreads) ever sees them.
 */
export function rejectPrototypeKeys(key: string, value: unknown): unknown {
  if (FORBIDDEN_KEYS.has(key)) throw new SyntaxError(`field "${key}" is not allowed`);
  return value;
}

/**
 * What is wrong with a parsed payload's shape before any DTO sees it: a
 * forbidden key (with its path), or nesting deeper than MAX_DEPTH, which would
 * overflow class-transformer's recursion. Iterative, so it cannot overflow itself.
 */
export function payloadProblem(value: unknown, subject = 'body'): { field: string; problem: string } | null {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: '', depth: 0 }];
  while (stack.length > 0) {
    const { value: current, path, depth } = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth > MAX_DEPTH) return { field: path || subject, problem: `${subject} is nested too deeply: at most ${MAX_DEPTH} levels` };
    for (const key of Object.keys(current)) {
      const here = path ? `${path}.${key}` : key;
      if (FORBIDDEN_KEYS.has(key)) return { field: here, problem: `${here} is not allowed` };
      stack.push({ value: (current as Record<string, unknown>)[key], path: here, depth: depth + 1 });
    }
  }
  return null;
}
