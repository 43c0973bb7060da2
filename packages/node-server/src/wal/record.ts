import { crc32c } from './crc32c.js';

/**
 * A WAL record frame:
 *
 *   u32 LE payload length | u8 type | u32 LE crc | payload
 *
 * crc = CRC32C over (type, payload), seeded with the segment's salt. The salt is random per
 * segment, so bytes that merely look like a frame (a client value that embeds one, a stale
 * record) do not verify in another segment; recovery relies on that when it searches past a
 * damaged record for intact ones.
 */
export const FRAME_HEADER_BYTES = 9;

export const RecordType = {
  entry: 1,
  hardState: 2,
  snapshotMarker: 3,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

const knownTypes = new Set<number>(Object.values(RecordType));

export function frameChecksum(salt: number, type: number, payload: Uint8Array): number {
  return crc32c(payload, crc32c(Uint8Array.of(type), salt));
}

export function encodeFrame(salt: number, type: RecordType, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, payload.length, true);
  out[4] = type;
  view.setUint32(5, frameChecksum(salt, type, payload), true);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

export type FrameRead =
  | { readonly kind: 'ok'; readonly type: RecordType; readonly payload: Uint8Array; readonly next: number }
  /** The bytes end before the frame does: a write that did not finish. */
  | { readonly kind: 'torn'; readonly reason: string }
  | { readonly kind: 'corrupt'; readonly reason: string };

/** Reads the frame at `offset` of `buf`, without throwing. */
export function readFrame(buf: Uint8Array, offset: number, salt: number, recordBytesMax: number): FrameRead {
  if (buf.length - offset < FRAME_HEADER_BYTES) {
    return { kind: 'torn', reason: `${buf.length - offset} bytes left, a frame header needs ${FRAME_HEADER_BYTES}` };
  }
  const view = new DataView(buf.buffer, buf.byteOffset + offset, FRAME_HEADER_BYTES);
  const length = view.getUint32(0, true);
  const type = view.getUint8(4);
  const crc = view.getUint32(5, true);
  if (!knownTypes.has(type)) return { kind: 'corrupt', reason: `unknown record type ${type}` };
  if (length > recordBytesMax) return { kind: 'corrupt', reason: `record length ${length} exceeds recordBytesMax ${recordBytesMax}` };
  const start = offset + FRAME_HEADER_BYTES;
  if (start + length > buf.length) {
    return { kind: 'torn', reason: `record of ${length} bytes runs past the end of the file` };
  }
  const payload = buf.subarray(start, start + length);
  if (frameChecksum(salt, type, payload) !== crc) return { kind: 'corrupt', reason: 'checksum mismatch' };
  return { kind: 'ok', type: type as RecordType, payload, next: start + length };
}
