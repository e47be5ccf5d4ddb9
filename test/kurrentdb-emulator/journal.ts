/**
 * Optional persistence of the log (`--data <path>`): an append-only file of JSON
 * lines, one line per committed write, fsync'd before the write is acknowledged,
 * and replayed at start.
 *
 * One line per write (not per event) keeps a multi-event append atomic across a
 * crash: a torn last line (no trailing newline, or not JSON) is a write that was
 * never acknowledged, so it is cut off at load, as the server's chunk
 * verification would drop an incomplete transaction. Positions, revisions and
 * `created` are stored as written and reloaded as they are, so a restart answers
 * with the same positions. The weak-idempotency cache is not stored: the server
 * does not persist it either.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LogRecord, RecordKind } from './log';

const FORMAT = 'kurrentdb-emulator-journal/1';

interface StoredRecord {
  kind: RecordKind;
  position: string;
  size: string;
  stream: string;
  revision: string;
  id: string;
  type: string;
  isJson: boolean;
  created: string;
  data: string;
  metadata: string;
}

interface StoredWrite {
  format: typeof FORMAT;
  records: StoredRecord[];
}

function toStored(record: LogRecord): StoredRecord {
  return {
    kind: record.kind,
    position: record.position.toString(),
    size: record.size.toString(),
    stream: record.stream,
    revision: record.revision.toString(),
    id: record.id,
    type: record.type,
    isJson: record.isJson,
    created: record.created.toString(),
    data: record.data.toString('base64'),
    metadata: record.metadata.toString('base64'),
  };
}

function fromStored(stored: StoredRecord): LogRecord {
  return {
    kind: stored.kind,
    position: BigInt(stored.position),
    size: BigInt(stored.size),
    stream: stored.stream,
    revision: BigInt(stored.revision),
    id: stored.id,
    type: stored.type,
    isJson: stored.isJson,
    created: BigInt(stored.created),
    data: Buffer.from(stored.data, 'base64'),
    metadata: Buffer.from(stored.metadata, 'base64'),
  };
}

function parseWrite(line: string): LogRecord[] | null {
  try {
    const parsed = JSON.parse(line) as Partial<StoredWrite>;
    if (parsed.format !== FORMAT || !Array.isArray(parsed.records)) return null;
    return parsed.records.map(fromStored);
  } catch {
    return null;
  }
}

export class Journal {
  private constructor(
    readonly path: string,
    private fd: number | null,
  ) {}

  /** Opens (or creates) the journal and returns the writes it holds, oldest first. */
  static open(path: string): { journal: Journal; writes: LogRecord[][] } {
    mkdirSync(dirname(path), { recursive: true });
    const writes: LogRecord[][] = [];
    if (existsSync(path)) {
      const content = readFileSync(path);
      let offset = 0;
      let valid = 0;
      while (offset < content.length) {
        const end = content.indexOf(0x0a, offset);
        if (end < 0) break; // torn tail: never acknowledged
        const records = parseWrite(content.subarray(offset, end).toString('utf8'));
        if (!records) {
          if (end + 1 < content.length) throw new Error(`${path}: unreadable write at byte ${offset}; not a journal of this emulator?`);
          break; // a garbled last line is a torn write too
        }
        writes.push(records);
        offset = end + 1;
        valid = offset;
      }
      if (valid < content.length) truncateSync(path, valid);
    }
    return { journal: new Journal(path, openSync(path, 'a')), writes };
  }

  /** Durably appends one write. Throws when the file cannot be written: the write must then fail. */
  append(records: readonly LogRecord[]): void {
    if (this.fd === null) throw new Error(`journal ${this.path} is closed`);
    const line = `${JSON.stringify({ format: FORMAT, records: records.map(toStored) } satisfies StoredWrite)}\n`;
    writeSync(this.fd, line);
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
  }
}
