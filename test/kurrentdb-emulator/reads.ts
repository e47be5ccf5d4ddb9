/**
 * Streams.Read with a count: reads of one stream and of $all, as the server's
 * enumerators and readers answer them.
 *
 * One stream (Enumerator.ReadStreamForwards/Backwards, IndexReader.ReadStreamEvents*):
 * - from a revision, inclusive; from the start; backwards from the end. Forwards
 *   from the end reaches the reader with event number -1, which it rejects: the
 *   call fails with UNKNOWN, as on the server.
 * - a missing or soft-deleted stream answers one StreamNotFound message; a
 *   tombstoned one fails with FAILED_PRECONDITION + `exception: stream-deleted`.
 * - with ControlOption.compatibility >= 1 (the Rust client of the read bridge sets
 *   it) the read ends with LastStreamPosition, and a forward read that finds
 *   nothing on its first page and did not start where the stream's next event
 *   number is says FirstStreamPosition first.
 *
 * $all (Enumerator.ReadAllForwards/Backwards over AllReader):
 * - forwards from a position is INCLUSIVE: AllReader.ReadAllEventsForward keeps a
 *   record when TFPos(commit, prepare) >= the requested position;
 * - backwards from a position is EXCLUSIVE: ReadAllEventsBackward keeps a record
 *   when its post-position (end of the record) <= the requested position, so the
 *   event that starts at the position itself is not returned;
 * - from the start / backwards from the end read everything; forwards from the
 *   end reads nothing;
 * - a position inside a record cannot be read from (InvalidPosition), and a
 *   backward read beyond the writer checkpoint throws in the chunk reader; the
 *   ReadAll enumerators turn both into UNKNOWN "Unexpected ReadAllResult: …";
 * - every $all read applies DefaultAllFilter, or the request's filter.
 */
import { effectiveFilter, type ReadRequest } from './read-request';
import {
  eventResponse,
  firstStreamPositionResponse,
  lastStreamPositionResponse,
  streamNotFoundResponse,
} from './read-responses';
import { comparePositions } from './positions';
import type { EventLog, LogRecord } from './log';
import type { ResponseSink } from './response-sink';
import { rpcErrors } from './rpc-errors';
import type { streamsPb } from './protocol';
import { DEFAULT_READ_BATCH_SIZE } from './read-request';

type Sink = ResponseSink<streamsPb.ReadReq, streamsPb.ReadResp>;

export async function readStream(log: EventLog, request: Extract<ReadRequest, { kind: 'read-stream' }>, sink: Sink): Promise<void> {
  const { stream, from, backwards, count, compatibility, encoding } = request;
  const fromEventNumber = from.kind === 'start' ? 0n : from.kind === 'end' ? -1n : from.revision;
  if (count === 0n || (!backwards && fromEventNumber < 0n)) {
    // IndexReader: Ensure.Positive(maxCount) / Ensure.Nonnegative(fromEventNumber) throw; the
    // storage reader answers ReadStreamResult.Error and the enumerator an unknown error.
    const reason = count === 0n ? 'maxCount should be positive' : 'fromEventNumber should be non negative';
    throw rpcErrors.unknownResult('ReadStreamResult', 'Error', reason);
  }
  const visible = log.visibleEvents(stream);
  if (visible.kind === 'deleted') throw rpcErrors.streamDeleted(stream);
  if (visible.kind === 'not-found') {
    await sink.write(streamNotFoundResponse(stream));
    return;
  }
  const { events, lastEventNumber: last } = visible;
  const min = visible.firstStreamPosition ?? 0n;

  if (backwards) {
    const end = fromEventNumber < 0n || fromEventNumber > last ? last : fromEventNumber;
    let sent = 0n;
    for (let i = events.length - 1; i >= 0 && sent < count; i--) {
      if (events[i].revision > end) continue;
      if (!(await sink.write(eventResponse(log, events[i], encoding)))) return;
      sent++;
    }
  } else {
    // Page by page like the enumerator, for the FirstStreamPosition rule.
    let pageStart = fromEventNumber;
    let sent = 0n;
    for (;;) {
      const pageSize = bigMin(BigInt(DEFAULT_READ_BATCH_SIZE), count - sent);
      const page = forwardPage(events, pageStart, pageSize, min, last);
      if (sent === 0n && compatibility >= 1 && page.records.length === 0 && pageStart !== page.next) {
        if (!(await sink.write(firstStreamPositionResponse(page.next)))) return;
      }
      for (const record of page.records) {
        if (sent >= count) break;
        if (!(await sink.write(eventResponse(log, record, encoding)))) return;
        sent++;
      }
      if (page.endOfStream || sent >= count) break;
      pageStart = page.next;
    }
  }
  if (compatibility >= 1) await sink.write(lastStreamPositionResponse(last));
}

/** One page of IndexReader.ReadStreamEventsForwardInternal. */
function forwardPage(events: readonly LogRecord[], start: bigint, maxCount: bigint, min: bigint, last: bigint) {
  const end = start + maxCount - 1n;
  if (end < min) return { records: [], next: min, endOfStream: false };
  const first = start > min ? start : min;
  if (first > last) return { records: [], next: last + 1n, endOfStream: true };
  const records = events.filter((e) => e.revision >= first && e.revision <= end);
  const next = records.length > 0 ? records[records.length - 1].revision + 1n : bigMin(end + 1n, last + 1n);
  return { records, next, endOfStream: end >= last };
}

export async function readAll(log: EventLog, request: Extract<ReadRequest, { kind: 'read-all' }>, sink: Sink): Promise<void> {
  const { from, backwards, count, encoding } = request;
  const matches = effectiveFilter(request.filter);
  const records = log.all;
  const end = log.end;
  let sent = 0n;

  if (!backwards) {
    const start = from.kind === 'start' ? { commit: 0n, prepare: 0n } : from.kind === 'end' ? { commit: end, prepare: end } : from;
    // Past the last record the reader stops before reading anything ("reached end of stream").
    if (start.commit <= log.lastPosition && !log.isRecordBoundary(start.commit)) {
      throw rpcErrors.unknownResult('ReadAllResult', 'InvalidPosition', `Invalid position ${start.commit}.`);
    }
    for (let i = log.indexAtOrAfter(start.commit); i < records.length && sent < count; i++) {
      const record = records[i];
      if (record.kind === 'empty') continue;
      if (comparePositions({ commit: record.position, prepare: record.position }, start) < 0) continue;
      if (!matches(record)) continue;
      if (!(await sink.write(eventResponse(log, record, encoding)))) return;
      sent++;
    }
    return;
  }

  const start = from.kind === 'start' ? { commit: 0n, prepare: 0n } : from.kind === 'end' ? { commit: end, prepare: end } : from;
  if (start.commit > end) {
    throw rpcErrors.unknownResult(
      'ReadAllResult',
      'Error',
      `Requested position ${start.commit} is greater than writer checkpoint ${end} when requesting to read previous record from TF.`,
    );
  }
  if (!log.isRecordBoundary(start.commit)) {
    throw rpcErrors.unknownResult('ReadAllResult', 'InvalidPosition', `Invalid position ${start.commit}.`);
  }
  for (let i = log.indexAtOrAfter(start.commit) - 1; i >= 0 && sent < count; i--) {
    const record = records[i];
    if (record.kind === 'empty') continue;
    const post = record.position + record.size;
    if (comparePositions({ commit: post, prepare: post }, start) > 0) continue;
    if (!matches(record)) continue;
    if (!(await sink.write(eventResponse(log, record, encoding)))) return;
    sent++;
  }
}

function bigMin(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
