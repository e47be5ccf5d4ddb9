/**
 * Streams.Read with the subscription option: catch-up subscriptions to $all and
 * to one stream, following the server's enumerators (src/KurrentDB.Core/Services/
 * Transport/Enumerators/Enumerator.AllSubscription.cs, AllSubscriptionFiltered.cs,
 * StreamSubscription.cs):
 *
 * 1. subscribe to live events first (they queue up), note the last position /
 *    event number at that moment, and send the confirmation;
 * 2. the checkpoint is what the client has already seen: nothing for "start",
 *    the noted last event for "end", or the given position / revision, so
 *    delivery is EXCLUSIVE of the starting point;
 * 3. unless the checkpoint is already at or past the noted end, catch up by
 *    reading forwards in pages from the checkpoint (events at or before it skipped);
 * 4. send CaughtUp (with the checkpoint), then drain the live queue, skipping
 *    whatever is at or before the checkpoint: no gap and no duplicate at the
 *    hand-over, because live events were queued from before the catch-up began.
 *
 * Filtered $all subscriptions also send checkpoints: during catch-up every
 * `checkpointInterval` (= multiplier × max search window) considered events and
 * once when reaching the end; live, every `checkpointInterval` committed events
 * (SubscriptionsService.ProcessEventCommitted counts them whether they match or not).
 *
 * Not emulated: the server's bounded live buffer that, when a client is slow,
 * drops live events and falls back to catching up (FellBehind is never sent to
 * clients anyway); here the live queue is unbounded, so the client sees the same
 * sequence of events.
 */
import { randomUUID } from 'node:crypto';
import type { EventLog, LogRecord } from './log';
import { comparePositions, type LogPosition } from './positions';
import { DEFAULT_READ_BATCH_SIZE, effectiveFilter, type ReadRequest } from './read-request';
import { caughtUpResponse, checkpointResponse, confirmationResponse, eventResponse } from './read-responses';
import type { ResponseSink } from './response-sink';
import { rpcErrors } from './rpc-errors';
import type { streamsPb } from './protocol';

type Sink = ResponseSink<streamsPb.ReadReq, streamsPb.ReadResp>;

/** TFPos.HeadOfTf: "nothing seen yet". */
const HEAD: LogPosition = { commit: -1n, prepare: -1n };
const FIRST_RECORD: LogPosition = { commit: 0n, prepare: 0n };

const at = (record: LogRecord): LogPosition => ({ commit: record.position, prepare: record.position });
const lte = (a: LogPosition, b: LogPosition) => comparePositions(a, b) <= 0;
const lt = (a: LogPosition, b: LogPosition) => comparePositions(a, b) < 0;

type LiveItem = { kind: 'event'; record: LogRecord } | { kind: 'checkpoint'; position: LogPosition };

/** Delivers live items in order, after the catch-up, one at a time (sends may wait for the client). */
class LiveQueue<T> {
  private readonly items: T[] = [];
  private draining = false;
  private handler: ((item: T) => Promise<boolean>) | null = null;

  push(item: T): void {
    this.items.push(item);
    void this.drain();
  }

  /** From now on hand every queued and future item to `handler`, until it returns false. */
  start(handler: (item: T) => Promise<boolean>): void {
    this.handler = handler;
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.draining || !this.handler) return;
    this.draining = true;
    try {
      while (this.items.length > 0 && this.handler) {
        const item = this.items.shift() as T;
        if (!(await this.handler(item))) this.handler = null;
      }
    } finally {
      this.draining = false;
    }
  }
}

export async function subscribeToAll(log: EventLog, request: Extract<ReadRequest, { kind: 'subscribe-all' }>, sink: Sink): Promise<void> {
  const { filter, encoding } = request;
  const matches = effectiveFilter(filter);
  const live = new LiveQueue<LiveItem>();
  let liveCounter = 0;
  const unsubscribe = log.onCommit((record) => {
    if (sink.closed) {
      unsubscribe();
      return;
    }
    if (record.kind === 'empty') return;
    if (matches(record)) live.push({ kind: 'event', record });
    if (filter && ++liveCounter >= filter.checkpointInterval) {
      liveCounter = 0;
      live.push({ kind: 'checkpoint', position: at(record) });
    }
  });
  sink.onClose(unsubscribe);

  const lastIndexed: LogPosition = { commit: log.lastPosition, prepare: log.lastPosition };
  if (!(await sink.write(confirmationResponse(randomUUID())))) return;

  let checkpoint: LogPosition =
    request.from.kind === 'start' ? HEAD : request.from.kind === 'end' ? lastIndexed : { commit: request.from.commit, prepare: request.from.prepare };

  const sendCheckpoint = async (position: LogPosition): Promise<boolean> =>
    comparePositions(position, HEAD) === 0 || (await sink.write(checkpointResponse(position.commit, position.prepare)));

  if (comparePositions(checkpoint, lastIndexed) < 0) {
    // Catch up, page by page (AllReader.ReadAllEventsForward / FilteredReadAllEventsForward).
    if (checkpoint.commit > 0n && !log.isRecordBoundary(checkpoint.commit)) throw rpcErrors.invalidPosition();
    const window = filter ? filter.maxSearchWindow : Number.MAX_SAFE_INTEGER;
    let counter = 0;
    let readFrom = lt(checkpoint, FIRST_RECORD) ? FIRST_RECORD : checkpoint;
    for (;;) {
      const page = readPage(log, readFrom, window, matches);
      for (const record of page.records) {
        if (lte(at(record), checkpoint)) continue;
        if (!(await sink.write(eventResponse(log, record, encoding)))) return;
        checkpoint = at(record);
      }
      if (filter) {
        if (lt(checkpoint, page.currentPos) && lt(page.currentPos, page.nextPos)) checkpoint = page.currentPos;
        counter += page.considered;
        if (page.endOfStream) {
          if (lt(checkpoint, FIRST_RECORD) && lt(FIRST_RECORD, page.nextPos)) checkpoint = FIRST_RECORD;
          if (!(await sendCheckpoint(checkpoint))) return;
          break;
        }
        if (counter >= filter.checkpointInterval) {
          counter %= filter.checkpointInterval;
          if (!(await sendCheckpoint(checkpoint))) return;
        }
      } else if (page.endOfStream) {
        break;
      }
      readFrom = page.nextPos;
    }
  }

  if (!(await sink.write(caughtUpResponse(comparePositions(checkpoint, HEAD) === 0 ? null : { position: checkpoint })))) return;
  live.start(async (item) => {
    if (item.kind === 'event') {
      if (lte(at(item.record), checkpoint)) return true;
      checkpoint = at(item.record);
      return sink.write(eventResponse(log, item.record, encoding));
    }
    if (lt(item.position, checkpoint)) return true;
    checkpoint = item.position;
    return sendCheckpoint(item.position);
  });
}

interface Page {
  records: LogRecord[];
  considered: number;
  currentPos: LogPosition;
  nextPos: LogPosition;
  endOfStream: boolean;
}

/** One page of AllReader.ReadAllEventsForwardInternal over self-committed prepares. */
function readPage(log: EventLog, from: LogPosition, maxSearchWindow: number, matches: (record: LogRecord) => boolean): Page {
  const records: LogRecord[] = [];
  let considered = 0;
  let nextPos = from;
  let endOfStream = false;
  const all = log.all;
  let i = log.indexAtOrAfter(from.commit);
  while (records.length < DEFAULT_READ_BATCH_SIZE && considered < maxSearchWindow) {
    if (i >= all.length) {
      endOfStream = true;
      break;
    }
    const record = all[i++];
    if (record.kind === 'empty' || lt(at(record), from)) continue;
    considered++;
    if (matches(record)) records.push(record);
    nextPos = { commit: record.position + record.size, prepare: 0n };
  }
  return { records, considered, currentPos: from, nextPos, endOfStream };
}

export async function subscribeToStream(
  log: EventLog,
  request: Extract<ReadRequest, { kind: 'subscribe-stream' }>,
  sink: Sink,
): Promise<void> {
  const { stream, encoding } = request;
  const live = new LiveQueue<LogRecord>();
  const unsubscribe = log.onCommit((record) => {
    if (sink.closed) {
      unsubscribe();
      return;
    }
    if (record.stream === stream && record.kind !== 'empty') live.push(record);
  });
  sink.onClose(unsubscribe);

  const lastEventNumber = log.lastEventNumber(stream);
  if (!(await sink.write(confirmationResponse(randomUUID())))) return;
  let checkpoint = request.from.kind === 'start' ? -1n : request.from.kind === 'end' ? lastEventNumber : request.from.revision;

  if (checkpoint < lastEventNumber) {
    const visible = log.visibleEvents(stream);
    if (visible.kind === 'deleted') throw rpcErrors.streamDeleted(stream);
    // NoStream (missing or soft-deleted): nothing to catch up on.
    if (visible.kind === 'events') {
      for (const record of visible.events) {
        if (record.revision <= checkpoint) continue;
        if (!(await sink.write(eventResponse(log, record, encoding)))) return;
        checkpoint = record.revision;
      }
    }
  }

  if (!(await sink.write(caughtUpResponse({ revision: checkpoint })))) return;
  live.start(async (record) => {
    if (record.revision <= checkpoint) return true;
    checkpoint = record.revision;
    if (!(await sink.write(eventResponse(log, record, encoding)))) return false;
    if (record.kind === 'tombstone') {
      // SendEventToSubscription: after the $streamDeleted event the subscription fails.
      sink.fail(rpcErrors.streamDeleted(stream));
      return false;
    }
    return true;
  });
}
