/**
 * ReadReq, decoded and checked the way Streams.Read does before it picks an
 * enumerator (src/KurrentDB.Core/Services/Transport/Grpc/Streams.Read.cs,
 * ReadReq.cs): a UUID option is required, and only these combinations exist
 * (anything else is InvalidCombination, INVALID_ARGUMENT):
 *
 *   stream + count        forwards/backwards, no filter
 *   $all   + count        forwards/backwards, filter or not
 *   stream + subscription forwards, no filter
 *   $all   + subscription forwards, filter or not
 */
import { compileFilter, defaultAllFilter, type EventFilter } from './event-filter';
import { streamsPb } from './protocol';
import type { ReadEncoding } from './read-responses';
import { streamNameOf } from './read-responses';
import { rpcErrors } from './rpc-errors';

type Options = streamsPb.ReadReq.Options;
const { StreamOptionCase, CountOptionCase, FilterOptionCase, ReadDirection } = streamsPb.ReadReq.Options;

/** Where a read starts: the start, the end, or a revision / $all position. */
export type StreamFrom = { kind: 'start' } | { kind: 'end' } | { kind: 'revision'; revision: bigint };
export type AllFrom = { kind: 'start' } | { kind: 'end' } | { kind: 'position'; commit: bigint; prepare: bigint };

export interface AllFilter {
  matches: EventFilter;
  /** Events considered per page (FilterOptions.max, else Enumerator.DefaultReadBatchSize). */
  maxSearchWindow: number;
  /** Checkpoint every multiplier × window considered events. */
  checkpointInterval: number;
}

export type ReadRequest =
  | { kind: 'read-stream'; stream: string; from: StreamFrom; backwards: boolean; count: bigint; compatibility: number; encoding: ReadEncoding }
  | { kind: 'read-all'; from: AllFrom; backwards: boolean; count: bigint; filter: AllFilter | null; encoding: ReadEncoding }
  | { kind: 'subscribe-stream'; stream: string; from: StreamFrom; encoding: ReadEncoding }
  | { kind: 'subscribe-all'; from: AllFrom; filter: AllFilter | null; encoding: ReadEncoding };

/** Enumerator.DefaultReadBatchSize */
export const DEFAULT_READ_BATCH_SIZE = 32;

function streamFrom(options: streamsPb.ReadReq.Options.StreamOptions): StreamFrom {
  if (options.hasStart()) return { kind: 'start' };
  if (options.hasEnd()) return { kind: 'end' };
  if (options.hasRevision()) return { kind: 'revision', revision: BigInt(options.getRevision()) };
  throw rpcErrors.invalidArgument('revision option not set');
}

function allFrom(options: streamsPb.ReadReq.Options.AllOptions): AllFrom {
  if (options.hasStart()) return { kind: 'start' };
  if (options.hasEnd()) return { kind: 'end' };
  const position = options.getPosition();
  if (position) return { kind: 'position', commit: BigInt(position.getCommitPosition()), prepare: BigInt(position.getPreparePosition()) };
  throw rpcErrors.invalidArgument('all option not set');
}

function allFilter(options: Options): AllFilter | null {
  const filter = options.getFilter();
  if (!filter) return null;
  const expression = filter.getEventType() ?? filter.getStreamIdentifier();
  if (!expression) throw rpcErrors.invalidArgument(`'${String(filter.getFilterCase())}' is not a valid filter`);
  const window = filter.getWindowCase();
  if (window !== streamsPb.ReadReq.Options.FilterOptions.WindowCase.MAX && window !== streamsPb.ReadReq.Options.FilterOptions.WindowCase.COUNT) {
    throw rpcErrors.invalidArgument(`'${String(window)}' is not a valid WindowOneofCase`);
  }
  const prefixes = expression.getPrefixList();
  // Secondary-index reads ($idx-… prefixes) are another feature of the server, not emulated.
  if (filter.hasStreamIdentifier() && !expression.getRegex() && prefixes.some((p) => p.startsWith('$idx-'))) {
    throw rpcErrors.unimplemented('Reading a secondary index ($idx- stream prefix)');
  }
  const maxSearchWindow = window === streamsPb.ReadReq.Options.FilterOptions.WindowCase.MAX ? filter.getMax() : DEFAULT_READ_BATCH_SIZE;
  const multiplier = filter.getCheckpointintervalmultiplier();
  return {
    matches: compileFilter({
      subject: filter.hasEventType() ? 'event-type' : 'stream-name',
      regex: expression.getRegex() || undefined,
      prefixes,
    }),
    maxSearchWindow,
    checkpointInterval: Math.max(multiplier, 1) * maxSearchWindow,
  };
}

export function decodeReadRequest(request: streamsPb.ReadReq): ReadRequest {
  const options = request.getOptions();
  if (!options) throw rpcErrors.invalidArgument('options are required');
  const uuidOption = options.getUuidOption();
  if (!uuidOption) throw rpcErrors.invalidArgument("'uuidOption' is a required argument of type UUIDOption");
  const encoding: ReadEncoding = { structuredIds: uuidOption.hasStructured(), resolveLinks: options.getResolveLinks() };

  const target = options.getStreamOptionCase();
  const count = options.getCountOptionCase();
  const backwards = options.getReadDirection() === ReadDirection.BACKWARDS;
  const filtered = options.getFilterOptionCase() === FilterOptionCase.FILTER;
  const invalidCombination = () =>
    rpcErrors.invalidArgument(
      `The combination of (${target}, ${count}, ${options.getReadDirection()}, ${options.getFilterOptionCase()}) is invalid.`,
    );

  if (target === StreamOptionCase.STREAM) {
    const stream = options.getStream();
    if (!stream || filtered) throw invalidCombination();
    const name = streamNameOf(stream.getStreamIdentifier());
    if (count === CountOptionCase.COUNT) {
      return {
        kind: 'read-stream',
        stream: name,
        from: streamFrom(stream),
        backwards,
        count: BigInt(options.getCount()),
        compatibility: options.getControlOption()?.getCompatibility() ?? 0,
        encoding,
      };
    }
    if (count === CountOptionCase.SUBSCRIPTION && !backwards) return { kind: 'subscribe-stream', stream: name, from: streamFrom(stream), encoding };
    throw invalidCombination();
  }
  if (target === StreamOptionCase.ALL) {
    const all = options.getAll();
    if (!all) throw invalidCombination();
    const filter = filtered ? allFilter(options) : null;
    if (count === CountOptionCase.COUNT) {
      return { kind: 'read-all', from: allFrom(all), backwards, count: BigInt(options.getCount()), filter, encoding };
    }
    if (count === CountOptionCase.SUBSCRIPTION && !backwards) return { kind: 'subscribe-all', from: allFrom(all), filter, encoding };
    throw invalidCombination();
  }
  throw rpcErrors.invalidArgument(`'${target}' is not a valid StreamOptionOneofCase`);
}

/** The filter a $all read applies: the requested one, or DefaultAllFilter. */
export function effectiveFilter(filter: AllFilter | null): EventFilter {
  return filter ? filter.matches : defaultAllFilter;
}
