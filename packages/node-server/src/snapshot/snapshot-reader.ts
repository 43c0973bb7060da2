import { createHash } from 'node:crypto';
import { open, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { SNAPSHOT_CHUNK_BYTES_MAX, type SnapshotInfo } from '@kvapp/client/protocol';

/** What the reader answers a snapshot-read with. */
export type SnapshotChunk =
  | { readonly ok: true; readonly snapshot: SnapshotInfo; readonly data: Buffer }
  | { readonly ok: false; readonly code: 'refused' | 'bad_request'; readonly message: string };

/** Which snapshot the client is reading (from the first chunk's answer); none for the first chunk. */
export interface SnapshotExpectation {
  readonly index: number;
  readonly checksum: string;
}

interface Identified {
  readonly path: string;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly info: SnapshotInfo;
}

const SNAP_NAME = /^(\d{20})\.snap$/;
const HEADER_BYTES = 16;
const HASH_READ_BYTES = 1024 * 1024;

/**
 * Serves a node's newest snapshot file (`<dataDir>/snap/<index>.snap`) in chunks, for
 * `kvapp snapshot save`. Snapshot files are written whole under a temp name and renamed into
 * place, never changed after, and removed only once a newer one exists; so a chunk read from the
 * file at the name's index is a piece of that one snapshot.
 *
 * Its identity (index, term, bytes, SHA-256 of the whole file) is computed once per file (keyed
 * by inode, size and mtime) and kept: later chunks read only their own range. A request naming
 * another snapshot than the newest one is refused, and the client starts again.
 */
export class SnapshotReader {
  private identified: Identified | null = null;
  private identifying: Promise<Identified> | null = null;

  constructor(
    private readonly snapDir: string,
    private readonly chunkBytes: number = SNAPSHOT_CHUNK_BYTES_MAX,
  ) {}

  private async newestName(): Promise<string | undefined> {
    const names = (await readdir(this.snapDir).catch(() => [] as string[])).filter((n) => SNAP_NAME.test(n)).sort();
    return names[names.length - 1];
  }

  async read(offset: number, expect?: SnapshotExpectation): Promise<SnapshotChunk> {
    const refused = (message: string): SnapshotChunk => ({ ok: false, code: 'refused', message });
    const newest = await this.newestName();
    if (newest === undefined) return refused('this node holds no snapshot yet (ask snapshot-now first)');
    const path = join(this.snapDir, newest);
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (error) {
      // Replaced by a newer snapshot between the listing and the open.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return refused('the snapshot changed while being read; start again');
      throw error;
    }
    try {
      const id = await this.identify(path, fh);
      const { info } = id;
      if (expect !== undefined && (expect.index !== info.index || expect.checksum !== info.checksum)) {
        return refused(
          `the snapshot changed while being read (was index ${expect.index}, now ${info.index}${
            expect.index === info.index ? ' with other bytes' : ''
          }); start again`,
        );
      }
      if (offset > info.bytes)
        return { ok: false, code: 'bad_request', message: `offset ${offset} is past the snapshot's ${info.bytes} bytes` };
      const length = Math.min(this.chunkBytes, info.bytes - offset);
      const data = Buffer.alloc(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await fh.read(data, done, length - done, offset + done);
        if (bytesRead === 0) throw new Error(`snapshot file ${path} ended at ${offset + done}, expected ${info.bytes} bytes`);
        done += bytesRead;
      }
      return { ok: true, snapshot: info, data };
    } finally {
      await fh.close();
    }
  }

  /** The file's identity: from the cache when it is the same file, else read once (hashing the whole file). */
  private async identify(path: string, fh: FileHandle): Promise<Identified> {
    const st = await fh.stat();
    const same = (x: Identified | null): x is Identified =>
      x !== null && x.path === path && x.ino === st.ino && x.size === st.size && x.mtimeMs === st.mtimeMs;
    if (same(this.identified)) return this.identified;
    // Concurrent first requests for one file hash it once.
    const pending = this.identifying;
    if (pending !== null) {
      const x = await pending.catch(() => null);
      if (same(x)) return x;
    }
    const work = hashFile(path, fh, st.size).then((info) => ({ path, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, info }));
    this.identifying = work;
    try {
      const x = await work;
      this.identified = x;
      return x;
    } finally {
      if (this.identifying === work) this.identifying = null;
    }
  }
}

/** Index and term from the snapshot file's meta, and the SHA-256 of all of it. */
async function hashFile(path: string, fh: FileHandle, size: number): Promise<SnapshotInfo> {
  const hash = createHash('sha256');
  const buf = Buffer.alloc(Math.min(HASH_READ_BYTES, Math.max(size, 1)));
  let head: Buffer | null = null;
  let pos = 0;
  while (pos < size) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - pos), pos);
    if (bytesRead === 0) throw new Error(`snapshot file ${path} ended at ${pos}, expected ${size} bytes`);
    if (pos === 0) head = Buffer.from(buf.subarray(0, bytesRead));
    hash.update(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
  const meta = await readMeta(path, head, fh);
  return { index: meta.index, term: meta.term, bytes: size, checksum: hash.digest('hex') };
}

/** The meta JSON after the 16-byte header ("KVSN" | version | CRC32C | meta length), see snapshot-file.ts. */
async function readMeta(path: string, head: Buffer | null, fh: FileHandle): Promise<{ index: number; term: number }> {
  if (head === null || head.length < HEADER_BYTES) throw new Error(`snapshot file ${path} is too short`);
  const metaLength = head.readUInt32BE(12);
  let metaBytes = head.subarray(HEADER_BYTES, HEADER_BYTES + metaLength);
  if (metaBytes.length < metaLength) {
    metaBytes = Buffer.alloc(metaLength);
    await fh.read(metaBytes, 0, metaLength, HEADER_BYTES);
  }
  const meta = JSON.parse(metaBytes.toString('utf8')) as { index: number; term: number };
  if (!Number.isSafeInteger(meta.index) || !Number.isSafeInteger(meta.term)) throw new Error(`snapshot file ${path} has no index or term`);
  return { index: meta.index, term: meta.term };
}
