/**
 * One file past 300 lines: it is the README's input rules written out once more,
 * independently, for the fuzz suite; split, the copy would be harder to check against it.
 *
 * fast-check arbitraries for the fuzz suite: request bodies that are always
 * invalid (a valid body with one field made wrong, at any depth), garbage
 * bodies, adversarial strings, path segments, query strings and headers.
 *
 * The rules below are written from the README, independently of the app's own
 * validators, so that a validator that lets something through is caught.
 */
import fc from 'fast-check';

/* eslint-disable @typescript-eslint/no-explicit-any */

// ---------------------------------------------------------------------------
// The documented rules (README "Entries"), our own copies

export const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
export const ACTOR = /^[A-Z][A-Z0-9_-]{0,31}$/;
export const KEBAB = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DATE_SHAPE = /^\d{4}(-\d{2}(-\d{2})?)?$/;

export const isSlug = (s: string) => s.length >= 1 && s.length <= 64 && SLUG.test(s);

// ---------------------------------------------------------------------------
// Adversarial strings

/** Path traversal, NUL, SQL metacharacters, unicode oddities, JS-special names. */
export const ADVERSARIAL_STRINGS: readonly string[] = [
  '',
  ' ',
  '..',
  '../',
  '../../etc/passwd',
  '..\\..\\windows',
  '%2e%2e',
  '%2e%2e%2f',
  '..%2f..%2f',
  '%252e%252e',
  '%00',
  '\u0000',
  'a\u0000b',
  "'",
  '"',
  ';',
  '--',
  '/*',
  '*/',
  "' OR 1=1 --",
  '" OR "1"="1',
  "1; DROP TABLE events; --",
  "'); DELETE FROM events; --",
  "x' UNION SELECT * FROM events --",
  '%',
  '%%',
  '%ff',
  '%c0%af',
  '\\',
  '\u202e',
  '\ufeff',
  '\ud800',
  '\udfff',
  '🙂',
  'Ａ',
  'ﬁ',
  'ǅ',
  'a\nb',
  'a\r\nb',
  '<script>alert(1)</script>',
  '${7*7}',
  '{{7*7}}',
  '__proto__',
  'constructor',
  'prototype',
  'NaN',
  'null',
  'undefined',
  'true',
  '0',
  '-1',
  '1e309',
  '00000000000000000001',
  'x'.repeat(65),
  'a'.repeat(5000),
];

const SQL_OR_PATH = fc.constantFrom(...ADVERSARIAL_STRINGS);

/** Any string, leaning on adversarial ones and every kind of unicode (lone surrogates included). */
export const adversarialString = (): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: SQL_OR_PATH },
    { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
    { weight: 1, arbitrary: fc.tuple(SQL_OR_PATH, SQL_OR_PATH, fc.string({ maxLength: 8 })).map((parts) => parts.join('')) },
  );

/** Object keys that mean something to JavaScript. */
export const SPECIAL_KEYS: readonly string[] = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  '__defineGetter__',
  '__lookupGetter__',
  'then',
  'length',
  '0',
  '',
];

// ---------------------------------------------------------------------------
// JSON helpers

/** An object with `key` as an own, enumerable property: JSON.stringify writes even "__proto__". */
export function objectWith(entries: Array<[string, unknown]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of entries) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

type Path = Array<string | number>;

function setAt(root: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = clone(root) as any;
  let at = copy;
  for (const key of path.slice(0, -1)) at = at[key];
  const last = path[path.length - 1];
  if (typeof last === 'string') Object.defineProperty(at, last, { value, enumerable: true, writable: true, configurable: true });
  else at[last] = value;
  return copy;
}

function removeAt(root: unknown, path: Path): unknown {
  const copy = clone(root) as any;
  let at = copy;
  for (const key of path.slice(0, -1)) at = at[key];
  delete at[path[path.length - 1]];
  return copy;
}

function getAt(root: unknown, path: Path): unknown {
  let at = root as any;
  for (const key of path) at = at?.[key];
  return at;
}

type JsonType = 'string' | 'number' | 'boolean' | 'array' | 'object' | 'null';

function jsonTypeOf(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value as JsonType;
}

// ---------------------------------------------------------------------------
// Body specs: what each field accepts, and values it must refuse

export type Spec =
  | { t: 'string'; bad: fc.Arbitrary<string>; optional?: boolean; nullable?: boolean }
  | { t: 'number' | 'integer'; bad: fc.Arbitrary<number>; optional?: boolean; nullable?: boolean }
  | { t: 'array'; of: Spec; bad: fc.Arbitrary<unknown[]>; optional?: boolean; nullable?: boolean }
  | { t: 'object'; fields: Record<string, Spec>; optional?: boolean; nullable?: boolean };

const opt = <S extends Spec>(spec: S): S => ({ ...spec, optional: true });

/** Strings that break `test`, from adversarial ones and extras. */
const stringNot = (valid: (s: string) => boolean, extras: string[] = []): fc.Arbitrary<string> =>
  fc.oneof(adversarialString(), fc.constantFrom(...(extras.length ? extras : ['?']))).filter((s) => !valid(s));

const text = (max: number): Spec => ({
  t: 'string',
  bad: fc.constantFrom('', ' ', '\t\n ', 'x'.repeat(max + 1), ` ${'y'.repeat(max)}`),
});
const length = (min: number, max: number): Spec => ({
  t: 'string',
  bad: fc.constantFrom(...(min > 0 ? [''] : []), 'z'.repeat(max + 1), 'é'.repeat(max + 1)),
});
const actor: Spec = {
  t: 'string',
  bad: stringNot((s) => ACTOR.test(s), ['jp', 'Jp', '1JP', 'J P', 'JP!', `J${'P'.repeat(32)}`, 'ＪＰ']),
};
const date: Spec = {
  t: 'string',
  bad: stringNot(
    (s) => DATE_SHAPE.test(s) && !['2024-02-30', '2023-02-29', '2024-13', '2024-00', '2024-04-31', '2024-06-00', '0000'].includes(s),
    ['2024-02-30', '2023-02-29', '2024-13', '2024-00', '2024-04-31', '2024-06-00', '0000', '2024-1-01', '24-06-13', '2024/06/13', '2024-06-13T00:00:00Z', ' 2024', '2024 ', '２０２４'],
  ),
};
const kebab = (max: number): Spec => ({
  t: 'string',
  bad: stringNot((s) => s.length <= max && KEBAB.test(s), ['Body-Armour', 'body--armour', '-x', 'x-', 'a b', 'k'.repeat(max + 1)]),
});
const uuid: Spec = {
  t: 'string',
  bad: stringNot((s) => UUID.test(s), ['8A1C3E52-4F0B-4D7E-9C21-6B5E0F3A9D47', '8a1c3e52-4f0b-4d7e-9c21-6b5e0f3a9d4', '{8a1c3e52-4f0b-4d7e-9c21-6b5e0f3a9d47}', '8a1c3e524f0b4d7e9c216b5e0f3a9d47']),
};
const currency: Spec = { t: 'string', bad: stringNot((s) => /^[A-Z]{3}$/.test(s), ['usd', 'US', 'USDT', 'U$D', '123']) };
const oneOf = (values: string[]): Spec => ({
  t: 'string',
  bad: stringNot((s) => values.includes(s), values.map((v) => v.toUpperCase()).concat(values.map((v) => ` ${v}`))),
});
const intIn = (min: number, max: number): Spec => ({
  t: 'integer',
  bad: fc.oneof(
    fc.constantFrom(min - 1, max + 1, -1, 1.5, min + 0.5, 1e21, -1e21, Number.MAX_SAFE_INTEGER + 2, 1e308),
    fc.integer({ max: min - 1 }),
    fc.integer({ min: max + 1 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Number.isInteger(n) || n < min || n > max),
  ),
});
const money: Spec = {
  t: 'object',
  fields: {
    amount: {
      t: 'number',
      bad: fc.oneof(fc.constantFrom(0, -0.01, -1, 1e15 + 2, 1e16, 1e308, -1e308), fc.double({ max: 0, noNaN: true, noDefaultInfinity: true })),
    },
    currency,
  },
};

const ACTORS_21 = Array.from({ length: 21 }, (_, i) => `A${i}`);
const actorsList = (min: number): Spec => ({
  t: 'array',
  of: actor,
  bad: fc.oneof(
    fc.constantFrom<unknown[]>(...(min === 2 ? [['JP']] : []), [], ['JP', 'JP'], ACTORS_21),
    actor.bad.map((b) => ['JP', b]),
  ),
});

const source: Spec = {
  t: 'object',
  fields: {
    title: text(300),
    publisher: opt(length(1, 200)),
    url: opt({
      t: 'string',
      bad: fc.constantFrom('', 'notaurl', 'ftp://example.org/x', 'javascript:alert(1)', 'example.org/no-protocol', `https://example.org/${'p'.repeat(2000)}`),
    }),
    publishedOn: opt(date),
  },
};
const item: Spec = {
  t: 'object',
  fields: { category: kebab(40), description: text(500), quantity: opt(intIn(1, 1e9)) },
};
const validSource = { title: 'A source' };
const validItem = { category: 'shells', description: 'Artillery shells' };

const common = (kind: string): Record<string, Spec> => ({
  kind: { t: 'string', bad: stringNot((s) => s === kind, ['announcement', 'signing', 'delivery', 'Announcement', 'timeline'].filter((k) => k !== kind)) },
  entryId: opt(uuid),
  occurredOn: date,
  title: text(200),
  summary: opt({ t: 'string', bad: fc.constant('s'.repeat(4001)) }),
  actors: actorsList(1),
  sources: opt({ t: 'array', of: source, bad: fc.constant(Array.from({ length: 21 }, () => validSource)) }),
  tags: opt({
    t: 'array',
    of: kebab(40),
    bad: fc.constantFrom<unknown[]>(['a', 'a'], Array.from({ length: 21 }, (_, i) => `t-${i}`)),
  }),
  relatedTo: opt({
    t: 'array',
    of: uuid,
    bad: fc.oneof(
      fc.constantFrom<unknown[]>(
        ['00000000-0000-4000-8000-00000000dead', '00000000-0000-4000-8000-00000000dead'],
        Array.from({ length: 21 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`),
      ),
      // Well formed, but no such entry: refused too.
      fc.uuid().map((u) => [u]),
    ),
  }),
});

export const ENTRY_SPECS: Record<'announcement' | 'signing' | 'delivery', Spec> = {
  announcement: {
    t: 'object',
    fields: {
      ...common('announcement'),
      announcer: actor,
      stage: oneOf(['reported', 'announced', 'confirmed']),
      pledge: opt(money),
    },
  },
  signing: {
    t: 'object',
    fields: {
      ...common('signing'),
      parties: actorsList(2),
      instrument: text(200),
      place: opt(length(1, 200)),
      termYears: opt(intIn(1, 100)),
    },
  },
  delivery: {
    t: 'object',
    fields: {
      ...common('delivery'),
      supplier: actor,
      recipient: actor,
      items: {
        t: 'array',
        of: item,
        bad: fc.constantFrom<unknown[]>([], Array.from({ length: 51 }, () => validItem)),
      },
      value: opt(money),
      channel: opt(text(64)),
    },
  },
};

/** Valid entry bodies that reach every nested field (sources, items, pledge, value). */
export const VALID_ENTRY: Record<'announcement' | 'signing' | 'delivery', Record<string, unknown>> = {
  announcement: {
    kind: 'announcement',
    occurredOn: '2024-06-13',
    title: 'A pledge',
    summary: 'Announced at a summit.',
    actors: ['JP', 'UA'],
    sources: [{ title: 'A source', publisher: 'A paper', url: 'https://example.org/a', publishedOn: '2024-06' }],
    tags: ['financial-aid'],
    announcer: 'JP',
    stage: 'announced',
    pledge: { amount: 4.5e9, currency: 'USD' },
  },
  signing: {
    kind: 'signing',
    occurredOn: '2024-06',
    title: 'An accord',
    actors: ['JP', 'UA'],
    sources: [{ title: 'A source' }],
    parties: ['JP', 'UA'],
    instrument: 'An accord',
    place: 'Apulia',
    termYears: 10,
  },
  delivery: {
    kind: 'delivery',
    occurredOn: '2022',
    title: 'A delivery',
    actors: ['JP', 'UA'],
    supplier: 'JP',
    recipient: 'UA',
    items: [{ category: 'helmets', description: 'Helmets', quantity: 6900 }],
    value: { amount: 1e6, currency: 'JPY' },
    channel: 'PURL',
  },
};

export const TIMELINE_SPEC: Spec = {
  t: 'object',
  fields: {
    slug: { t: 'string', bad: stringNot(isSlug, ['Japan', 'a--b', '-a', 'a-', 'a_b', 'a b', 'x'.repeat(65)]) },
    title: text(200),
    // IsOptional: null is accepted (and means no description).
    description: { t: 'string', optional: true, nullable: true, bad: fc.constant('d'.repeat(2001)) },
  },
};

/** PATCH /entries/:id: changes is a partial of the kind's fields; null removes an optional field, so it is valid there. */
export function correctionSpec(kind: 'announcement' | 'signing' | 'delivery'): Spec {
  const fields = (ENTRY_SPECS[kind] as Extract<Spec, { t: 'object' }>).fields;
  const changes: Record<string, Spec> = {};
  for (const [name, spec] of Object.entries(fields)) {
    if (name === 'kind' || name === 'entryId') continue; // never fields of changes: unknown there
    changes[name] = { ...spec, optional: true, nullable: spec.optional === true };
  }
  return {
    t: 'object',
    fields: {
      changes: { t: 'object', fields: changes },
      reason: text(1000),
    },
  };
}

export const RETRACTION_SPEC: Spec = { t: 'object', fields: { reason: text(1000) } };

// ---------------------------------------------------------------------------
// Near-valid: a valid body with exactly one thing made wrong

interface Site {
  path: Path;
  spec: Spec;
  present: boolean;
}

function sitesOf(spec: Spec, value: unknown, path: Path = []): Site[] {
  const out: Site[] = [{ path, spec, present: value !== undefined }];
  if (spec.t === 'object' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [name, field] of Object.entries(spec.fields)) {
      const v = (value as Record<string, unknown>)[name];
      if (v === undefined && !field.optional) continue;
      out.push(...sitesOf(field, v, [...path, name]));
    }
  }
  if (spec.t === 'array' && Array.isArray(value) && value.length > 0) out.push(...sitesOf(spec.of, value[0], [...path, 0]));
  return out;
}

const anyJson = fc.jsonValue({ maxDepth: 3 });

/** A JSON value of a type the spec does not accept. */
function wrongType(spec: Spec): fc.Arbitrary<unknown> {
  const accepts = (v: unknown): boolean => {
    if (v === null) return spec.nullable === true;
    const type = jsonTypeOf(v);
    if (spec.t === 'integer') return type === 'number';
    return type === spec.t;
  };
  const candidates: Array<fc.Arbitrary<unknown>> = [
    anyJson,
    fc.constantFrom<unknown>(null, true, false, 0, -1, 1.5, '', 'x', [], {}, [[]], [{}], [null], ['x'], { a: 1 }),
  ];
  // Objects are where arrays sneak in: weigh them in.
  if (spec.t === 'object') candidates.push(fc.array(anyJson, { maxLength: 3 }), fc.constantFrom<unknown>([], [[]], [[[]]], [{}], [[{}]]));
  return fc.oneof(...candidates).filter((v) => !accepts(v));
}

export interface Mutated {
  body: unknown;
  /** What was changed, for failure messages. */
  note: string;
}

const unknownKey = (spec: Extract<Spec, { t: 'object' }>) =>
  fc.oneof(fc.constantFrom(...SPECIAL_KEYS, 'extra', 'kind2', 'Title', 'slug ', 'entry_id', 'id'), fc.string({ maxLength: 12 })).filter(
    (k) => !(k in spec.fields),
  );

/**
 * The valid body with one change that makes it invalid: a field of the wrong
 * type, a value out of its range, a required field removed, or an unknown key
 * (JavaScript-special ones included) added at any depth.
 */
export function nearInvalid(spec: Spec, valid: unknown): fc.Arbitrary<Mutated> {
  const sites = sitesOf(spec, valid);
  const choices: Array<fc.Arbitrary<Mutated>> = [];
  for (const site of sites) {
    const where = site.path.length ? site.path.join('.') : 'body';
    choices.push(wrongType(site.spec).map((v) => ({ body: setAt(valid, site.path, v), note: `${where} := ${show(v)} (wrong type)` })));
    if ('bad' in site.spec) {
      choices.push(site.spec.bad.map((v: unknown) => ({ body: setAt(valid, site.path, v), note: `${where} := ${show(v)} (out of range)` })));
    }
    const last = site.path[site.path.length - 1];
    if (site.present && !site.spec.optional && typeof last === 'string') {
      choices.push(fc.constant({ body: removeAt(valid, site.path), note: `${where} removed` }));
    }
    if (site.spec.t === 'object' && site.present) {
      const object = site.spec;
      choices.push(
        fc.tuple(unknownKey(object), anyJson).map(([k, v]) => {
          const target = getAt(valid, site.path) as Record<string, unknown>;
          return { body: setAt(valid, site.path, objectWith([...Object.entries(target), [k, v]])), note: `${where}.${JSON.stringify(k)} added` };
        }),
      );
    }
  }
  return fc.oneof(...choices);
}

export const show = (value: unknown): string => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 120)}…(${text.length})` : text;
};

// ---------------------------------------------------------------------------
// Garbage bodies

export interface BodyCase {
  body?: Buffer | string;
  /** Content-Type to send; null sends none. Defaults to application/json. */
  contentType?: string | null;
  headers?: Record<string, string>;
  note: string;
}

const json = (value: unknown): string | undefined => {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
};

/** Puts `[key]: inner` into a random object of `value` (or wraps value in one), at any depth. */
function injectKey(value: unknown, key: string, inner: unknown, pick: number): unknown {
  const objects: Path[] = [];
  const walk = (v: unknown, path: Path) => {
    if (v !== null && typeof v === 'object') {
      if (!Array.isArray(v)) objects.push(path);
      for (const [k, child] of Object.entries(v)) walk(child, [...path, Array.isArray(v) ? Number(k) : k]);
    }
  };
  walk(value, []);
  if (objects.length === 0) return objectWith([['data', value], [key, inner]]);
  const path = objects[pick % objects.length];
  const target = getAt(value, path) as Record<string, unknown>;
  return setAt(value, path, objectWith([...Object.entries(target), [key, inner]]));
}

/** `__proto__` or `constructor.prototype` (or `prototype`) keys somewhere in a body. */
export function protoPolluted(base: fc.Arbitrary<unknown>): fc.Arbitrary<BodyCase> {
  const payload = fc.constantFrom<unknown>({ polluted: true }, { isAdmin: true, toString: 'x' }, 1, 'x', null, [{ polluted: 1 }]);
  const pollution = fc.oneof(
    fc.tuple(fc.constant('__proto__'), payload),
    fc.tuple(fc.constant('constructor'), payload.map((p) => objectWith([['prototype', p]]))),
    fc.tuple(fc.constant('prototype'), payload),
  );
  return fc.tuple(base, pollution, fc.nat()).map(([value, [key, inner], pick]) => {
    const polluted = injectKey(value, key, inner, pick);
    return { body: JSON.stringify(polluted), note: `${key} injected: ${show(polluted)}` };
  });
}

export const DEPTHS = [10, 100, 500, 1000, 1200, 1500, 2000, 2500, 3000, 5000, 10_000, 50_000] as const;

/** Deeply nested arrays or objects, at the top or as the value of one field of a valid body. */
export function deeplyNested(valid: Record<string, unknown>, fields: string[]): fc.Arbitrary<BodyCase> {
  return fc
    .record({
      depth: fc.constantFrom(...DEPTHS),
      shape: fc.constantFrom('array', 'object', 'mixed'),
      field: fc.option(fc.constantFrom(...fields, 'unknownField'), { nil: undefined }),
    })
    .map(({ depth, shape, field }) => {
      const open = shape === 'array' ? '[' : shape === 'object' ? '{"a":' : '[{"a":';
      const close = shape === 'array' ? ']' : shape === 'object' ? '}' : '}]';
      const core = shape === 'array' ? '' : '1';
      const times = shape === 'mixed' ? Math.ceil(depth / 2) : depth;
      const deep = open.repeat(times) + core + close.repeat(times);
      if (field === undefined) return { body: deep, note: `top-level ${shape} nested ${depth} deep` };
      const rest = JSON.stringify(Object.fromEntries(Object.entries(valid).filter(([k]) => k !== field)));
      const body = `${rest.slice(0, -1)}${rest.length > 2 ? ',' : ''}${JSON.stringify(field)}:${deep}}`;
      return { body, note: `${field} := ${shape} nested ${depth} deep` };
    });
}

/** Arrays of 10k to 100k items, at the top or in a field; some over the 256kb limit (413). */
export function hugeArrays(valid: Record<string, unknown>, fields: string[]): fc.Arbitrary<BodyCase> {
  return fc
    .record({
      count: fc.constantFrom(10_000, 50_000, 100_000),
      element: fc.constantFrom('1', '"JP"', '{}', 'null', '[]', '"a"'),
      field: fc.option(fc.constantFrom(...fields), { nil: undefined }),
    })
    .map(({ count, element, field }) => {
      const array = `[${Array(count).fill(element).join(',')}]`;
      if (field === undefined) return { body: array, note: `top-level array of ${count} × ${element}` };
      const rest = JSON.stringify(Object.fromEntries(Object.entries(valid).filter(([k]) => k !== field)));
      return { body: `${rest.slice(0, -1)},${JSON.stringify(field)}:${array}}`, note: `${field} := array of ${count} × ${element}` };
    });
}

const INVALID_UTF8: readonly number[][] = [
  [0xff],
  [0xfe, 0xff],
  [0xc3],
  [0xc0, 0xaf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0x80],
  [0x00],
];

/**
 * Invalid UTF-8: random bytes, or the valid body's JSON with invalid bytes
 * inside one of its keys (which then names no field, so the body stays
 * invalid however the bytes are decoded).
 */
export function invalidUtf8(valid: Record<string, unknown>): fc.Arbitrary<BodyCase> {
  const text = JSON.stringify(valid);
  const keys = Object.keys(valid);
  return fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 200 }).map((bytes) => ({ body: Buffer.from(bytes), note: `random bytes ${Buffer.from(bytes).toString('hex').slice(0, 80)}` })),
    fc.tuple(fc.constantFrom(...keys), fc.constantFrom(...INVALID_UTF8), fc.nat()).map(([key, bad, at]) => {
      const quoted = JSON.stringify(key);
      const start = text.indexOf(`${quoted}:`);
      const cut = start + 1 + (at % (key.length + 1));
      const body = Buffer.concat([Buffer.from(text.slice(0, cut)), Buffer.from(bad), Buffer.from(text.slice(cut))]);
      return { body, note: `bytes ${Buffer.from(bad).toString('hex')} inside key ${quoted}` };
    }),
    fc.constantFrom(...INVALID_UTF8).map((bad) => ({
      body: Buffer.concat([Buffer.from('{"'), Buffer.from(bad), Buffer.from('":1}')]),
      note: `object with key bytes ${Buffer.from(bad).toString('hex')}`,
    })),
  );
}

/** Content types the JSON parser does not take (the body is then not read as JSON), and malformed ones. */
export const WRONG_CONTENT_TYPES: readonly (string | null)[] = [
  null,
  '',
  'text/plain',
  'text/json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/xml',
  'application/merge-patch+json',
  'application/vnd.api+json',
  'application/jsonx',
  'application/json-seq',
  'json',
  '*/*',
  'application/json; charset=utf-16',
  'application/json; charset=utf-32le',
  'application/json; charset=latin1',
  'application/json; charset=nonsense',
  'application/json; charset=',
  'application/json; =',
  'application/json;;;',
];

/** Garbage of every sort for a write route with these top-level fields. */
export function garbageBody(valid: Record<string, unknown>, fields: string[]): fc.Arbitrary<BodyCase> {
  // A JSON object of only known keys might be a valid request; those are the near-valid generator's job.
  const notPlausible = (value: unknown) =>
    !(value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).every((k) => fields.includes(k)));
  const jsonText = fc.json({ maxDepth: 4 }).filter((t) => notPlausible(JSON.parse(t)));
  return fc.oneof(
    { weight: 3, arbitrary: jsonText.map((t) => ({ body: t, note: `fc.json ${show(t)}` })) },
    {
      weight: 3,
      arbitrary: fc
        .anything({ maxDepth: 3, withBoxedValues: true, withNullPrototype: true, withObjectString: true, withSparseArray: true })
        .map((v) => json(v))
        .filter((t): t is string => t !== undefined && notPlausible(JSON.parse(t)))
        .map((t) => ({ body: t, note: `fc.anything ${show(t)}` })),
    },
    { weight: 2, arbitrary: protoPolluted(fc.oneof(fc.constant<unknown>(valid), anyJson)) },
    { weight: 2, arbitrary: deeplyNested(valid, fields) },
    { weight: 1, arbitrary: hugeArrays(valid, fields) },
    { weight: 2, arbitrary: invalidUtf8(valid) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('', ' ', '{', '}', '[', '{"a":}', '{"a" 1}', "{'a':1}", '{"a":1,}', 'NaN', 'undefined', '{"a":1}{"b":2}', '\ufeff{}', '/* */{}', '{"a":01}', '{"a":1e999}', '{"\\ud800":1}', '{"a":"\\u0000"}').map((t) => ({
        body: t,
        note: `malformed JSON ${show(t)}`,
      })),
    },
    {
      weight: 1,
      arbitrary: fc.string({ unit: 'binary', maxLength: 100 }).map((t) => ({ body: t, note: `random text ${show(t)}` })),
    },
  );
}

/** The route's body sent under a content type that is not JSON (so it is not parsed), or a broken one. */
export function wrongContentType(body: unknown): fc.Arbitrary<BodyCase> {
  return fc.constantFrom(...WRONG_CONTENT_TYPES).map((contentType) => ({
    body: JSON.stringify(body),
    contentType,
    note: `content-type ${JSON.stringify(contentType)}`,
  }));
}

// ---------------------------------------------------------------------------
// URLs

/** A path segment as sent on the wire: adversarial strings, raw or percent-encoded, and encodings of dots and NUL. */
export const pathSegment = (): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom('..', '.', '%2e%2e', '%2E%2E', '.%2e', '%2e', '..%2f..%2fhealth', '%2e%2e%2f%2e%2e%2fevents', '..%5c..%5c', '%00', 'a%00b', '%2500', '%ff', '%c0%ae%c0%ae', '%', '%zz', '%e2%80%ae', "'", '%27', '"', '%22', ';', '--', '/*', '%27%20OR%201%3D1%20--', "'OR'1'='1", 'x;DROP%20TABLE%20events', '%3B--', '%2f', 'a%2fb', '%5c', '~', '!$&()*+,=:@', 'timelines', 'entries', 'health', '%EF%BC%A1%EF%BC%A2', '%F0%9F%99%82') },
    { weight: 2, arbitrary: adversarialString().map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '\ufffd'))) },
    // Raw bytes the HTTP client accepts in a path (printable ASCII and latin1), not encoded at all.
    { weight: 1, arbitrary: fc.string({ unit: fc.integer({ min: 0x21, max: 0xff }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 20 }) },
    { weight: 1, arbitrary: fc.uuid().map((u) => u.toUpperCase()) },
    { weight: 1, arbitrary: fc.constant('x'.repeat(65)) },
  );

/** Safely decodes a path segment the way a server might, for filtering out ones that name a real resource. */
export function decodedSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

const QUERY_KEYS = ['kind', 'actor', 'from', 'to', 'order', 'limit', 'cursor', 'includeRetracted', 'asOf', 'after', 'format', 'q'];

/** Search text: words, and the syntax of ours and of FTS5 (quotes, *, OR, NEAR, column filters, operators) in any mix. */
export const searchText = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc
      .array(fc.constantFrom('"', '*', 'OR', 'AND', 'NOT', 'NEAR', '(', ')', ':', '^', '-', '+', '{', '}', ' ', 'title', 'japan', 'ja', 'ü', 'Kyïv', '\u0000', '\'', ',', '.'), { maxLength: 12 })
      .map((parts) => parts.join('')),
    adversarialString(),
    fc.string({ maxLength: 250 }),
  );

const queryValue = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom(
      'announcement', 'signing', 'delivery', 'JP', 'UA', '2024', '2024-06', '2024-06-13', '2024-02-30', 'asc', 'desc', '1', '50', '500', '501',
      '0', '-1', '1e1', '0x10', ' 1', '000050', '9999999', 'true', 'false', 'TRUE', 'ndjson', 'json', 'timelinejs',
      '00000000000000000000', '00000000000000000001', '99999999999999999999', '00000000000000000001-00000000000000000001',
      '2024-06-13T14:05:00Z', '2024-06-13T16:05:00+02:00', '2024-02-30T00:00:00Z', '2024-06-13T25:00:00Z', '9999-12-31T23:59:59-23:59',
      '0001-01-01T00:00:00+23:59', '2024-06-13T14:05:00+99:99', '2024-06-13',
    ),
    adversarialString(),
    // Cursors: base64url of arbitrary JSON (two strings is the real shape)
    fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.tuple(adversarialString(), adversarialString())).map((v) => Buffer.from(JSON.stringify(v) ?? 'null').toString('base64url')),
    fc.string({ maxLength: 600 }),
  );

/** A query string (without `?`): known and random keys, repeated keys (a=1&a=2), bracket syntax, raw or encoded. */
export const queryString = (): fc.Arbitrary<string> =>
  fc
    .array(
      fc.record({
        key: fc.oneof(fc.constantFrom(...QUERY_KEYS), fc.constantFrom('a[b]', 'limit[]', 'kind[0]', 'cursor[a][b]', '__proto__', '__proto__[x]', 'constructor[prototype][polluted]', '', '=', '&'), adversarialString()),
        value: queryValue(),
        repeat: fc.integer({ min: 1, max: 3 }),
        encode: fc.boolean(),
      }),
      { maxLength: 6 },
    )
    .map((pairs) =>
      pairs
        .flatMap(({ key, value, repeat, encode }) => {
          const clean = (s: string) => s.replace(/[\ud800-\udfff]/g, '\ufffd');
          const k = encode ? encodeURIComponent(clean(key)) : rawQueryPart(key);
          const v = encode ? encodeURIComponent(clean(value)) : rawQueryPart(value);
          return Array(repeat).fill(`${k}=${v}`);
        })
        .join('&'),
    );

/** Only what an HTTP request line can carry unencoded; the rest percent-encoded. */
function rawQueryPart(s: string): string {
  return Array.from(s)
    .map((ch) => (/^[\x21-\x7e]$/.test(ch) && ch !== '#' ? ch : encodeURIComponent(ch.replace(/[\ud800-\udfff]/g, '\ufffd'))))
    .join('');
}

// ---------------------------------------------------------------------------
// Headers

/** Header values the HTTP client can send: visible ASCII, latin1, tabs and spaces. */
export const headerValue = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom('', ' ', 'abc', 'a'.repeat(128), 'a'.repeat(129), 'a b', 'a,b', '"0"', 'W/"0"', '*', '"-1"', '"1e3"', '"0x1"', '"9999999999999999"', '"00"', "'0'", '0', '"0", "1"', '\t"0"\t', 'café', '\xff\xfe', "' OR 1=1 --", '../../', '%00'),
    fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)), maxLength: 200 }),
  );
