import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfState, Snapshot } from '@kvapp/core';
import { crc32c } from '../wal/crc32c.js';
import { writeFileAtomic, type AtomicWriteOptions } from '../wal/atomic-file.js';

/**
 * Snapshot files: `snap/<index, 20 digits>.snap`, written whole with temp + fsync + rename +
 * directory fsync, so a crash leaves the old file or the new one, never half of one.
 * Layout: "KVSN" | u32 version | u32 CRC32C of the rest | u32 meta length | meta JSON | data.
 */
const MAGIC = 0x4b56534e; // "KVSN"
const VERSION = 1;
const HEADER_BYTES = 16;

export class SnapshotFileError extends Error {
  readonly code = 'SNAPSHOT_CORRUPT' as const;
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`snapshot file ${file} is unusable: ${reason}; move it away only if the WAL still holds those entries`);
    this.name = 'SnapshotFileError';
  }
}

export function snapshotFileName(index: number): string {
  return `${String(index).padStart(20, '0')}.snap`;
}

export function encodeSnapshotFile(snapshot: Snapshot): Uint8Array {
  const meta = new TextEncoder().encode(JSON.stringify(snapshot.meta));
  const out = new Uint8Array(HEADER_BYTES + meta.length + snapshot.data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC);
  view.setUint32(4, VERSION);
  view.setUint32(12, meta.length);
  out.set(meta, HEADER_BYTES);
  out.set(snapshot.data, HEADER_BYTES + meta.length);
  view.setUint32(8, crc32c(out.subarray(12)));
  return out;
}

export function decodeSnapshotFile(bytes: Uint8Array, file: string): Snapshot {
  if (bytes.length < HEADER_BYTES) throw new SnapshotFileError(file, `only ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0) !== MAGIC) throw new SnapshotFileError(file, 'bad magic');
  if (view.getUint32(4) !== VERSION) throw new SnapshotFileError(file, `unknown version ${view.getUint32(4)}`);
  if (view.getUint32(8) !== crc32c(bytes.subarray(12))) throw new SnapshotFileError(file, 'checksum mismatch');
  const metaLength = view.getUint32(12);
  if (HEADER_BYTES + metaLength > bytes.length) throw new SnapshotFileError(file, 'meta length past the end');
  let meta: { index: number; term: number; conf: ConfState };
  try {
    meta = JSON.parse(new TextDecoder().decode(bytes.subarray(HEADER_BYTES, HEADER_BYTES + metaLength)));
  } catch {
    throw new SnapshotFileError(file, 'meta is not JSON');
  }
  if (!Number.isSafeInteger(meta.index) || !Number.isSafeInteger(meta.term) || typeof meta.conf !== 'object') {
    throw new SnapshotFileError(file, 'meta lacks index, term or conf');
  }
  return { meta, data: bytes.slice(HEADER_BYTES + metaLength) };
}

export async function writeSnapshotFile(dir: string, snapshot: Snapshot, options: AtomicWriteOptions = {}): Promise<string> {
  const name = snapshotFileName(snapshot.meta.index);
  await writeFileAtomic(dir, name, encodeSnapshotFile(snapshot), options);
  return join(dir, name);
}

/** The newest snapshot in `dir`, or null. A corrupt newest file refuses: it may hold entries the WAL dropped. */
export async function readNewestSnapshot(dir: string): Promise<Snapshot | null> {
  const names = (await readdir(dir)).filter((n) => /^\d{20}\.snap$/.test(n)).sort();
  const newest = names[names.length - 1];
  if (newest === undefined) return null;
  const path = join(dir, newest);
  return decodeSnapshotFile(new Uint8Array(await readFile(path)), path);
}

/** Removes snapshot files older than `keepIndex` (and leftover temp files). */
export async function removeOlderSnapshots(dir: string, keepIndex: number): Promise<void> {
  for (const name of await readdir(dir)) {
    const match = /^(\d{20})\.snap(\.tmp)?$/.exec(name);
    if (match && (Number(match[1]) < keepIndex || match[2] !== undefined)) await unlink(join(dir, name));
  }
}
