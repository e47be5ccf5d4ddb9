/**
 * ReadResp messages as the server builds them (ResponseConverter in
 * src/KurrentDB.Core/Services/Transport/Grpc/Streams.Read.cs).
 *
 * An event carries its id (string or structured, as the request's UUIDOption
 * asks), stream, revision, commit and prepare positions, data, custom metadata,
 * and the metadata map {type, created, content-type} (MetadataHelpers.AddGrpcMetadataFrom):
 * `created` is the append time in .NET ticks since the Unix epoch, as a decimal string.
 */
import type { EventLog, LogRecord } from './log';
import type { LogPosition } from './positions';
import { sharedPb, streamsPb, Timestamp } from './protocol';
import { uuidToDto } from './uuid';

/** SystemEventTypes.LinkTo: an event whose data is "<event number>@<stream>". */
const LINK_TO = '$>';

export interface ReadEncoding {
  structuredIds: boolean;
  resolveLinks: boolean;
}

export function streamIdentifier(stream: string): sharedPb.StreamIdentifier {
  const identifier = new sharedPb.StreamIdentifier();
  identifier.setStreamName(Buffer.from(stream, 'utf8'));
  return identifier;
}

export function streamNameOf(identifier: sharedPb.StreamIdentifier | undefined): string {
  return identifier ? Buffer.from(identifier.getStreamName_asU8()).toString('utf8') : '';
}

function recordedEvent(record: LogRecord, encoding: ReadEncoding): streamsPb.ReadResp.ReadEvent.RecordedEvent {
  const recorded = new streamsPb.ReadResp.ReadEvent.RecordedEvent();
  recorded.setId(uuidToDto(record.id, encoding.structuredIds));
  recorded.setStreamIdentifier(streamIdentifier(record.stream));
  recorded.setStreamRevision(record.revision.toString());
  recorded.setCommitPosition(record.position.toString());
  recorded.setPreparePosition(record.position.toString());
  const metadata = recorded.getMetadataMap();
  metadata.set('type', record.type);
  metadata.set('created', record.created.toString());
  metadata.set('content-type', record.isJson ? 'application/json' : 'application/octet-stream');
  recorded.setData(record.data);
  recorded.setCustomMetadata(record.metadata);
  return recorded;
}

/**
 * The event a link points to, if it still exists for readers
 * (StorageReaderWorker.ResolveLinkToEvent); null for a broken link.
 */
function linkTarget(log: EventLog, link: LogRecord): LogRecord | null {
  const match = /^(\d+)@(.+)$/s.exec(link.data.toString('utf8'));
  if (!match) return null;
  const visible = log.visibleEvents(match[2]);
  if (visible.kind !== 'events') return null;
  const eventNumber = BigInt(match[1]);
  return visible.events.find((e) => e.revision === eventNumber) ?? null;
}

export function eventResponse(log: EventLog, record: LogRecord, encoding: ReadEncoding): streamsPb.ReadResp {
  const readEvent = new streamsPb.ReadResp.ReadEvent();
  if (encoding.resolveLinks && record.type === LINK_TO && record.kind === 'event') {
    const target = linkTarget(log, record);
    if (target) readEvent.setEvent(recordedEvent(target, encoding));
    readEvent.setLink(recordedEvent(record, encoding));
  } else {
    readEvent.setEvent(recordedEvent(record, encoding));
  }
  // The original (link or event) position: every record here committed itself.
  readEvent.setCommitPosition(record.position.toString());
  return new streamsPb.ReadResp().setEvent(readEvent);
}

export function confirmationResponse(subscriptionId: string): streamsPb.ReadResp {
  const confirmation = new streamsPb.ReadResp.SubscriptionConfirmation();
  confirmation.setSubscriptionId(subscriptionId);
  return new streamsPb.ReadResp().setConfirmation(confirmation);
}

/** CaughtUp with the subscription's checkpoint: a $all position, or a stream revision (when >= 0). */
export function caughtUpResponse(checkpoint: { position: LogPosition } | { revision: bigint } | null): streamsPb.ReadResp {
  const caughtUp = new streamsPb.ReadResp.CaughtUp();
  caughtUp.setTimestamp(Timestamp.fromDate(new Date()));
  if (checkpoint && 'position' in checkpoint) {
    const position = new streamsPb.ReadResp.Position();
    position.setCommitPosition(checkpoint.position.commit.toString());
    position.setPreparePosition(checkpoint.position.prepare.toString());
    caughtUp.setPosition(position);
  } else if (checkpoint && checkpoint.revision >= 0n) {
    caughtUp.setStreamRevision(checkpoint.revision.toString());
  }
  return new streamsPb.ReadResp().setCaughtUp(caughtUp);
}

export function checkpointResponse(commit: bigint, prepare: bigint): streamsPb.ReadResp {
  const checkpoint = new streamsPb.ReadResp.Checkpoint();
  checkpoint.setCommitPosition(commit.toString());
  checkpoint.setPreparePosition(prepare.toString());
  checkpoint.setTimestamp(Timestamp.fromDate(new Date()));
  return new streamsPb.ReadResp().setCheckpoint(checkpoint);
}

export function streamNotFoundResponse(stream: string): streamsPb.ReadResp {
  const notFound = new streamsPb.ReadResp.StreamNotFound();
  notFound.setStreamIdentifier(streamIdentifier(stream));
  return new streamsPb.ReadResp().setStreamNotFound(notFound);
}

export function firstStreamPositionResponse(revision: bigint): streamsPb.ReadResp {
  return new streamsPb.ReadResp().setFirstStreamPosition(revision.toString());
}

export function lastStreamPositionResponse(revision: bigint): streamsPb.ReadResp {
  return new streamsPb.ReadResp().setLastStreamPosition(revision.toString());
}
