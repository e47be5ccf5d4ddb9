import { createHash, timingSafeEqual } from 'node:crypto';
import { InvalidConfigError } from '../config/invalid-config.error';

export const ROLES = ['reader', 'editor', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export interface ApiKey {
  /** Recorded as `recordedBy` on every event this key appends. */
  name: string;
  role: Role;
  key: string;
}

export interface Principal {
  name: string;
  role: Role;
}

const NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** "<name>:<role>:<key>,..." — each problem names the entry and the variable it came from. */
export function parseApiKeys(spec: string, source: string): ApiKey[] {
  const keys = spec
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry, i) => {
      const [name, role, ...rest] = entry.split(':');
      const key = rest.join(':');
      const where = `${source} entry ${i + 1}`;
      if (!name || !NAME.test(name)) throw new InvalidConfigError(`${where}: the name must be 1-64 of A-Z a-z 0-9 . _ -`);
      if (!ROLES.includes(role as Role)) throw new InvalidConfigError(`${where} (${name}): the role must be one of ${ROLES.join(', ')}`);
      if (key.length < 16) throw new InvalidConfigError(`${where} (${name}): the key must be at least 16 characters`);
      return { name, role: role as Role, key };
    });
  const names = new Set<string>();
  for (const k of keys) {
    if (names.has(k.name)) throw new InvalidConfigError(`${source}: the name '${k.name}' is used twice`);
    names.add(k.name);
  }
  return keys;
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * Finds the key a bearer token belongs to. Tokens are compared as SHA-256
 * digests with timingSafeEqual, and every configured key is compared every
 * time, so neither a key's content nor its position shows in the timing.
 */
export class ApiKeyRegistry {
  private readonly keys: Array<{ principal: Principal; digest: Buffer }>;

  constructor(keys: readonly ApiKey[]) {
    this.keys = keys.map((k) => ({ principal: { name: k.name, role: k.role }, digest: digest(k.key) }));
  }

  /** No keys configured: development mode, where every request is allowed. */
  get open(): boolean {
    return this.keys.length === 0;
  }

  identify(token: string): Principal | null {
    const presented = digest(token);
    let found: Principal | null = null;
    for (const k of this.keys) if (timingSafeEqual(presented, k.digest)) found = k.principal;
    return found;
  }
}
