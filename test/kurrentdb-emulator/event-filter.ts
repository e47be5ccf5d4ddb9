/**
 * Server-side filters for $all reads and subscriptions, as KurrentDB applies them
 * (src/KurrentDB.Core/Services/Storage/ReaderIndex/EventFilter.cs).
 *
 * - Every $all read, filtered or not, goes through DefaultAllFilter: events of
 *   non-system streams pass; `$epoch-information` and the checkpoint/parked streams
 *   of persistent subscriptions to $all do not; every other system stream passes.
 * - A filter on event type or stream name is either a list of prefixes
 *   (String.StartsWith, any of them) or a regular expression that must match
 *   somewhere in the subject (Regex.Match(...).Success, i.e. not anchored). The
 *   server compiles .NET regexes; here they are JavaScript regexes, which agree
 *   on the usual syntax (`^[^$].*` of excludeSystemEvents, alternations, classes).
 */
import type { LogRecord } from './log';

export type EventFilter = (record: Pick<LogRecord, 'stream' | 'type'>) => boolean;

function isPersistentAllStream(stream: string, suffix: string): boolean {
  const prefix = '$persistentsubscription-$all::';
  return stream.length >= prefix.length + suffix.length && stream.startsWith(prefix) && stream.endsWith(suffix);
}

/** EventFilter.DefaultAllFilterStrategy */
export const defaultAllFilter: EventFilter = ({ stream }) => {
  if (!stream.startsWith('$')) return true;
  if (stream === '$epoch-information') return false;
  if (isPersistentAllStream(stream, '-checkpoint')) return false;
  if (isPersistentAllStream(stream, '-parked')) return false;
  return true;
};

export type FilterSubject = 'event-type' | 'stream-name';

export interface FilterExpression {
  subject: FilterSubject;
  /** When set (non-empty), the filter is this regex; the prefixes are then ignored, as on the server. */
  regex?: string;
  prefixes: string[];
}

export function compileFilter(expression: FilterExpression): EventFilter {
  const subjectOf = (record: Pick<LogRecord, 'stream' | 'type'>): string =>
    expression.subject === 'event-type' ? record.type : record.stream;
  if (expression.regex) {
    const regex = new RegExp(expression.regex);
    return (record) => defaultAllFilter(record) && regex.test(subjectOf(record));
  }
  const prefixes = [...expression.prefixes];
  return (record) => defaultAllFilter(record) && prefixes.some((prefix) => subjectOf(record).startsWith(prefix));
}
