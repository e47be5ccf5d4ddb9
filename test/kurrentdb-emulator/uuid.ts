/**
 * Event ids on the wire (event_store.client.UUID): either a string or two signed
 * 64-bit halves ("structured"), as the server's Uuid type converts them
 * (src/KurrentDB.Core/Services/Transport/Grpc/Uuid.cs). The server parses strings
 * with Guid.Parse and writes them back with Guid.ToString(): lower-case, dashed.
 */
import { sharedPb } from './protocol';

const HEX32 = /^[0-9a-f]{32}$/;
const U64 = 1n << 64n;

/** Guid.Parse, for the formats clients send: dashed or not, optionally in braces or parentheses. */
export function parseUuidString(value: string): string | null {
  let text = value.trim().toLowerCase();
  if ((text.startsWith('{') && text.endsWith('}')) || (text.startsWith('(') && text.endsWith(')'))) text = text.slice(1, -1);
  const dashed = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/.exec(text);
  const hex = dashed ? dashed.slice(1).join('') : text;
  if (!HEX32.test(hex)) return null;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function toSignedDecimal(hex16: string): string {
  const value = BigInt(`0x${hex16}`);
  return (value >= 1n << 63n ? value - U64 : value).toString();
}

function toUnsignedHex(decimal: string): string {
  const value = BigInt(decimal);
  return (value < 0n ? value + U64 : value).toString(16).padStart(16, '0');
}

/** Uuid.FromDto: the canonical string, or null when the id is missing or malformed. */
export function uuidFromDto(dto: sharedPb.UUID | undefined): string | null {
  if (!dto) return null;
  if (dto.hasStructured()) {
    const structured = dto.getStructured();
    if (!structured) return null;
    const hex = toUnsignedHex(structured.getMostSignificantBits()) + toUnsignedHex(structured.getLeastSignificantBits());
    return parseUuidString(hex);
  }
  if (dto.hasString()) return parseUuidString(dto.getString());
  return null;
}

/** The id as the reader asked for it (ReadReq.Options.UUIDOption: string or structured). */
export function uuidToDto(id: string, structured: boolean): sharedPb.UUID {
  const dto = new sharedPb.UUID();
  if (!structured) return dto.setString(id);
  const hex = id.replace(/-/g, '');
  const halves = new sharedPb.UUID.Structured();
  halves.setMostSignificantBits(toSignedDecimal(hex.slice(0, 16)));
  halves.setLeastSignificantBits(toSignedDecimal(hex.slice(16)));
  return dto.setStructured(halves);
}
