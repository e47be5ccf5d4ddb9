/**
 * Where records go in the transaction log, computed the way KurrentDB lays them out.
 *
 * A KurrentDB log position is a byte offset into the transaction file. Since log
 * format v2 with implicit transactions (every write since 20.x), each event is one
 * prepare record flagged IsCommitted, and the server reports it at
 * (commit, prepare) = (LogPosition, LogPosition) of that record (ResolvedEvent
 * .CalculatePosition: "IsSelfCommitted" → new TFPos(LogPosition, LogPosition)).
 * So positions here are byte offsets too, spaced by the real record size, which
 * keeps them far below the 10^20 the adapter's 20-digit encoding allows.
 */

/** .NET ExpectedVersion / EventNumber sentinels, as the server encodes them in a long. */
export const ExpectedVersion = {
  Any: -2n,
  NoStream: -1n,
  StreamExists: -4n,
} as const;

/** EventNumber.DeletedStream = long.MaxValue: a tombstoned stream's "last event number". */
export const DELETED_STREAM = (1n << 63n) - 1n;

/** TFConsts.ChunkSize: a transaction never spans two chunks (StorageWriterService moves it to the next one). */
export const CHUNK_SIZE = 256n * 1024n * 1024n;

/** Bytes of a UTF-8 string written with its ULEB128 length prefix (PrepareLogRecord.StringSizeWithLengthPrefix). */
function stringSizeWithLengthPrefix(byteLength: number): number {
  return byteLength === 0 ? 1 : byteLength + Math.floor(Math.log2(byteLength) / 7) + 1;
}

/**
 * Size on disk of a prepare record, length prefix and suffix included
 * (PrepareLogRecord.ComputeSizeOnDisk, record version V1 with a long ExpectedVersion).
 */
export function prepareRecordSize(stream: string, eventType: string, dataLength: number, metadataLength: number): bigint {
  const size =
    2 * 4 /* length prefix & suffix */ +
    (1 + 1 + 8) /* LogRecord.BaseSize: type, version, log position */ +
    2 /* flags */ +
    8 /* transaction position */ +
    4 /* transaction offset */ +
    8 /* expected version */ +
    stringSizeWithLengthPrefix(Buffer.byteLength(stream, 'utf8')) +
    16 /* event id */ +
    16 /* correlation id */ +
    8 /* timestamp */ +
    stringSizeWithLengthPrefix(Buffer.byteLength(eventType, 'utf8')) +
    4 +
    dataLength +
    4 +
    metadataLength;
  return BigInt(size);
}

/** Where a transaction of `totalSize` bytes starts when the writer is at `writerPosition`. */
export function transactionStart(writerPosition: bigint, totalSize: bigint): bigint {
  const used = writerPosition % CHUNK_SIZE;
  return used + totalSize > CHUNK_SIZE && used !== 0n ? writerPosition - used + CHUNK_SIZE : writerPosition;
}

/** The server's TFPos order: by commit position, then prepare position. */
export interface LogPosition {
  commit: bigint;
  prepare: bigint;
}

export function comparePositions(a: LogPosition, b: LogPosition): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}

/** .NET ticks (100 ns units) since the Unix epoch, the unit of the `created` metadata (EpochExtensions.ToTicksSinceEpoch). */
export function ticksNow(): bigint {
  // Wall-clock milliseconds, plus the sub-millisecond digits of the monotonic clock, so
  // `created` looks like a server's DateTime.UtcNow (100 ns resolution) without drifting
  // from Date.now() the way performance.timeOrigin + performance.now() can.
  const subMillisecond = Math.floor((performance.now() % 1) * 10_000);
  return BigInt(Date.now()) * 10_000n + BigInt(subMillisecond);
}
