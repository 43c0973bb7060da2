import type { Entry, EntryType, HardState } from '@kvapp/core';

/**
 * Record payloads, a fixed little-endian layout (no schema library: the three shapes are fixed,
 * and a hand layout is smaller, faster to verify and cannot change under a library upgrade).
 * Integers are u64 holding values up to 2^53-1.
 *
 *   entry:           u64 term | u64 index | u8 type (0 normal, 1 conf-change) | data (rest)
 *   hard state:      u64 term | u64 vote | u64 commit
 *   snapshot marker: u64 index | u64 term
 */
export interface SnapshotMarker {
  readonly index: number;
  readonly term: number;
}

const TWO32 = 2 ** 32;
const entryTypes: readonly EntryType[] = ['normal', 'conf-change'];

function putU64(view: DataView, at: number, n: number): void {
  view.setUint32(at, n % TWO32, true);
  view.setUint32(at + 4, Math.floor(n / TWO32), true);
}

function getU64(view: DataView, at: number): number {
  const hi = view.getUint32(at + 4, true);
  if (hi > 0x1fffff) throw new PayloadError(`u64 at ${at} exceeds 2^53-1`);
  return hi * TWO32 + view.getUint32(at, true);
}

export class PayloadError extends Error {}

function viewOf(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

export const ENTRY_HEADER_BYTES = 17;

export function encodeEntry(e: Entry): Uint8Array {
  const out = new Uint8Array(ENTRY_HEADER_BYTES + e.data.length);
  const v = viewOf(out);
  putU64(v, 0, e.term);
  putU64(v, 8, e.index);
  out[16] = entryTypes.indexOf(e.type);
  out.set(e.data, ENTRY_HEADER_BYTES);
  return out;
}

export function decodeEntry(p: Uint8Array): Entry {
  if (p.length < ENTRY_HEADER_BYTES) throw new PayloadError(`entry payload of ${p.length} bytes`);
  const v = viewOf(p);
  const type = entryTypes[p[16]!];
  if (type === undefined) throw new PayloadError(`entry type ${p[16]}`);
  // A copy, so the entry does not pin the whole segment buffer in memory.
  return { term: getU64(v, 0), index: getU64(v, 8), type, data: p.slice(ENTRY_HEADER_BYTES) };
}

export function encodeHardState(h: HardState): Uint8Array {
  const out = new Uint8Array(24);
  const v = viewOf(out);
  putU64(v, 0, h.term);
  putU64(v, 8, h.vote);
  putU64(v, 16, h.commit);
  return out;
}

export function decodeHardState(p: Uint8Array): HardState {
  if (p.length !== 24) throw new PayloadError(`hard state payload of ${p.length} bytes`);
  const v = viewOf(p);
  return { term: getU64(v, 0), vote: getU64(v, 8), commit: getU64(v, 16) };
}

export function encodeSnapshotMarker(m: SnapshotMarker): Uint8Array {
  const out = new Uint8Array(16);
  const v = viewOf(out);
  putU64(v, 0, m.index);
  putU64(v, 8, m.term);
  return out;
}

export function decodeSnapshotMarker(p: Uint8Array): SnapshotMarker {
  if (p.length !== 16) throw new PayloadError(`snapshot marker payload of ${p.length} bytes`);
  const v = viewOf(p);
  return { index: getU64(v, 0), term: getU64(v, 8) };
}
