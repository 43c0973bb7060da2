import { crc32c } from './crc32c.js';
import { WalError } from './errors.js';
import { readFrame, type RecordType } from './record.js';

/**
 * A segment is one WAL file: a header, then records, appended only. Its name is its sequence
 * number in hex, so a directory listing sorts in log order.
 *
 * Header (28 bytes): "KVWALSEG" | u32 LE version | u32 LE salt | u64 LE seq | u32 LE crc32c of the 24 bytes before.
 */
export const SEGMENT_HEADER_BYTES = 28;
export const SEGMENT_VERSION = 1;
const MAGIC = new TextEncoder().encode('KVWALSEG');
const SUFFIX = '.wal';

export interface SegmentHeader {
  readonly seq: number;
  readonly salt: number;
}

export function segmentName(seq: number): string {
  return seq.toString(16).padStart(16, '0') + SUFFIX;
}

export function parseSegmentName(name: string): number | null {
  const m = /^([0-9a-f]{16})\.wal$/.exec(name);
  return m ? parseInt(m[1]!, 16) : null;
}

export function encodeSegmentHeader(h: SegmentHeader): Uint8Array {
  const out = new Uint8Array(SEGMENT_HEADER_BYTES);
  const v = new DataView(out.buffer);
  out.set(MAGIC, 0);
  v.setUint32(8, SEGMENT_VERSION, true);
  v.setUint32(12, h.salt, true);
  v.setUint32(16, h.seq % 2 ** 32, true);
  v.setUint32(20, Math.floor(h.seq / 2 ** 32), true);
  v.setUint32(24, crc32c(out.subarray(0, 24)), true);
  return out;
}

export function decodeSegmentHeader(buf: Uint8Array, file: string): SegmentHeader {
  const bad = (why: string) => new WalError('WAL_CORRUPT_SEGMENT', `WAL segment ${file} has a bad header: ${why}`, file, 0);
  if (buf.length < SEGMENT_HEADER_BYTES) throw bad(`${buf.length} bytes, need ${SEGMENT_HEADER_BYTES}`);
  const v = new DataView(buf.buffer, buf.byteOffset, SEGMENT_HEADER_BYTES);
  if (v.getUint32(24, true) !== crc32c(buf.subarray(0, 24))) throw bad('checksum mismatch');
  for (let i = 0; i < MAGIC.length; i++) if (buf[i] !== MAGIC[i]) throw bad('not a kvapp WAL segment');
  const version = v.getUint32(8, true);
  if (version !== SEGMENT_VERSION) throw bad(`unsupported version ${version}`);
  return { salt: v.getUint32(12, true), seq: v.getUint32(20, true) * 2 ** 32 + v.getUint32(16, true) };
}

export interface ScannedRecord {
  readonly type: RecordType;
  readonly payload: Uint8Array;
  readonly offset: number;
}

export interface SegmentScan {
  readonly header: SegmentHeader;
  readonly records: ScannedRecord[];
  /** The first byte not part of an intact record, when the file has bytes after it (torn or corrupt tail). */
  readonly tail: { readonly offset: number; readonly reason: string } | null;
}

/**
 * Reads every record of a segment. A bad record is a TAIL (cut, never acknowledged) only if no
 * intact record follows it anywhere in the file and `tailAllowed` (the last segment). Otherwise
 * acknowledged data may lie beyond it, and the scan refuses with WAL_CORRUPT_RECORD.
 *
 * Why "no intact record follows" rather than "the length field points at the end": a flipped
 * bit in a length field makes the frame look torn; searching byte by byte for an intact frame
 * (the salted checksum makes false matches negligible) tells a damaged tail from damage in the
 * middle.
 */
export function scanSegment(buf: Uint8Array, file: string, recordBytesMax: number, tailAllowed: boolean): SegmentScan {
  const header = decodeSegmentHeader(buf, file);
  const records: ScannedRecord[] = [];
  let offset = SEGMENT_HEADER_BYTES;
  while (offset < buf.length) {
    const r = readFrame(buf, offset, header.salt, recordBytesMax);
    if (r.kind === 'ok') {
      records.push({ type: r.type, payload: r.payload, offset });
      offset = r.next;
      continue;
    }
    const later = findIntactFrame(buf, offset + 1, header.salt, recordBytesMax);
    if (!tailAllowed || later !== null) {
      const where = later !== null ? `; an intact record follows at offset ${later}` : '';
      throw new WalError(
        'WAL_CORRUPT_RECORD',
        `WAL corrupt before its tail: ${file} at offset ${offset}: ${r.reason}${where}. Refusing to start; ` +
          'acknowledged data may be damaged. Restore this node from a peer or a backup.',
        file,
        offset,
      );
    }
    return { header, records, tail: { offset, reason: r.reason } };
  }
  return { header, records, tail: null };
}

function findIntactFrame(buf: Uint8Array, from: number, salt: number, recordBytesMax: number): number | null {
  for (let p = from; p < buf.length; p++) {
    if (readFrame(buf, p, salt, recordBytesMax).kind === 'ok') return p;
  }
  return null;
}
