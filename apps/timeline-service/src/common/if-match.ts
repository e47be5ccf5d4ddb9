import { InvalidHeaderError, PreconditionRequiredError } from './http-errors';

const ENTITY_TAG = /^"(\d{1,15})"$/;

/** Parses If-Match "<revision>". Required for corrections (428 without it), optional for retractions. */
export function parseIfMatch(header: string | string[] | undefined, required: true): number;
export function parseIfMatch(header: string | string[] | undefined, required: false): number | undefined;
export function parseIfMatch(header: string | string[] | undefined, required: boolean): number | undefined {
  if (header === undefined || header === '') {
    if (required) throw new PreconditionRequiredError('If-Match');
    return undefined;
  }
  const match = typeof header === 'string' ? ENTITY_TAG.exec(header.trim()) : null;
  if (!match) throw new InvalidHeaderError('If-Match', 'must be the entry\'s ETag, a revision in double quotes like "3"');
  return Number(match[1]);
}

export const etagOf = (revision: number): string => `"${revision}"`;
