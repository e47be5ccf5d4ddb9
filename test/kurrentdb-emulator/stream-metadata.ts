/**
 * Stream metadata, as far as stream reads and soft deletion need it.
 *
 * KurrentDB keeps a stream's metadata as the last event of its metastream `$$<stream>`
 * (JSON; the server reads it with StreamMetadata.TryFromJsonBytes and falls back
 * to empty metadata when it does not parse). Honoured here: `$tb` (truncate
 * before: events below it are invisible to stream reads; long.MaxValue marks a
 * soft-deleted stream), `$maxCount` and `$maxAge` (seconds). ACLs, `$cacheControl`
 * and `$tmp` are stored and read back like any event but have no effect.
 *
 * The values are longs; `$tb` of a soft-deleted stream is 2^63 - 1, which a JS
 * number cannot hold, so integers are taken from the JSON text, not from JSON.parse.
 */
import { DELETED_STREAM } from './positions';

export interface StreamMetadata {
  truncateBefore?: bigint;
  maxCount?: bigint;
  maxAgeSeconds?: bigint;
}

export const METASTREAM_PREFIX = '$$';
/** SystemEventTypes.StreamMetadata */
export const METADATA_EVENT_TYPE = '$metadata';

export function metastreamOf(stream: string): string {
  return `${METASTREAM_PREFIX}${stream}`;
}

export function isMetastream(stream: string): boolean {
  return stream.startsWith(METASTREAM_PREFIX);
}

export function originalStreamOf(metastream: string): string {
  return metastream.slice(METASTREAM_PREFIX.length);
}

function integerProperty(json: string, name: string): bigint | undefined {
  const escaped = name.replace(/\$/g, '\\$');
  const match = new RegExp(`"${escaped}"\\s*:\\s*(-?\\d+)\\s*[,}]`).exec(json);
  return match ? BigInt(match[1]) : undefined;
}

export function parseStreamMetadata(raw: Uint8Array): StreamMetadata {
  const text = Buffer.from(raw).toString('utf8');
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
  } catch {
    return {};
  }
  return {
    truncateBefore: integerProperty(text, '$tb'),
    maxCount: integerProperty(text, '$maxCount'),
    maxAgeSeconds: integerProperty(text, '$maxAge'),
  };
}

/** What a soft delete writes: StreamMetadata(truncateBefore: EventNumber.DeletedStream).ToJsonBytes(). */
export function softDeletedMetadata(): Buffer {
  return Buffer.from(`{"$tb":${DELETED_STREAM}}`, 'utf8');
}

/**
 * What the server writes when a soft-deleted stream is written to again
 * (StorageWriterService.ModifyMetadata): the last metadata with `$tb` set to the
 * first new event number. Null when the raw metadata is not a JSON object (the
 * server then skips the undelete, leaving the stream deleted).
 */
export function undeletedMetadata(raw: Uint8Array, recreateFrom: bigint): Buffer | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw).toString('utf8'));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const placeholder = '__emulator_tb__';
  const json = JSON.stringify({ ...(parsed as Record<string, unknown>), $tb: placeholder });
  return Buffer.from(json.replace(`"${placeholder}"`, recreateFrom.toString()), 'utf8');
}
