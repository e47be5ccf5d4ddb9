import { UnauthenticatedError } from './access';

/** The API key in `Authorization: Bearer <key>`, null when there is no header. */
export function bearerToken(header: string | string[] | undefined): string | null {
  if (header === undefined || header === '') return null;
  const match = typeof header === 'string' ? /^Bearer ([\x21-\x7e]{1,512})$/.exec(header.trim()) : null;
  if (!match) throw new UnauthenticatedError("authorization must be 'Bearer <api key>'");
  return match[1];
}
