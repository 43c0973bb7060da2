import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';
import { writeAll, writevAll } from './atomic-file.js';
import { activeDiskProbe, type DiskProbe } from './disk-probe.js';
import { syncFile } from './file-sync.js';

/**
 * How a synced batch is made durable.
 * - `o-dsync`: one positional writev on a handle opened with O_DSYNC, which returns once the data
 *   is durable: ONE libuv thread-pool job per synced batch.
 * - `fdatasync`: a write, then fdatasync: two jobs, each a round trip through the thread pool.
 */
export type SyncMethod = 'o-dsync' | 'fdatasync';

/** Hooks run inside a batch's write; installed only when a failpoint is armed. */
export interface SegmentWriteHooks {
  /** Runs after the first half of the batch's last record is written. */
  readonly midRecord?: () => void | Promise<void>;
  /** Runs after the batch is written, before its fdatasync. */
  readonly beforeSync?: () => void | Promise<void>;
}

/**
 * Appends batches to the active WAL segment and makes them durable.
 *
 * Why unsynced bytes are kept: O_DSYNC (like a ranged fsync) only promises the bytes of that one
 * write, not earlier writes to the file that were never synced (commit-only hard states saved
 * with `sync: false`). A synced batch therefore rewrites them, identical bytes at the same
 * offsets, in front of itself in the same writev, so that "a synced save makes every earlier save
 * durable" holds for O_DSYNC as it does for fdatasync. They are small; past `unsyncedBytesMax`
 * an unsynced batch is written durably instead, which bounds the memory kept.
 */
export class SegmentWriter {
  private unsynced: Uint8Array[] = [];
  private unsyncedBytes = 0;
  /** The segment's inode, looked up the first time a disk probe journals an O_DSYNC write. */
  private ino: number | null = null;

  private constructor(
    /** Absolute: what a disk probe's journal names. */
    private readonly path: string,
    private readonly fh: FileHandle,
    /** The same file opened with O_DSYNC; null for `fdatasync`. */
    private readonly dsync: FileHandle | null,
    /** End of the file: where the next batch goes. */
    private end: number,
    /** Everything before this offset is durable. */
    private syncedEnd: number,
    private readonly unsyncedBytesMax: number,
  ) {}

  /**
   * Opens the segment at `path` for appending at `size`; everything before `size` must already
   * be durable. O_DSYNC where the platform has no such flag falls back to fdatasync.
   */
  static async open(path: string, size: number, method: SyncMethod, unsyncedBytesMax: number): Promise<SegmentWriter> {
    const fh = await open(path, 'r+');
    let dsync: FileHandle | null = null;
    if (method === 'o-dsync' && constants.O_DSYNC !== undefined) {
      try {
        dsync = await open(path, constants.O_RDWR | constants.O_DSYNC);
      } catch (err) {
        await fh.close();
        throw err;
      }
    }
    return new SegmentWriter(resolve(path), fh, dsync, size, size, unsyncedBytesMax);
  }

  get size(): number {
    return this.end;
  }

  /** Whether some written bytes are not yet durable. */
  get hasUnsynced(): boolean {
    return this.syncedEnd < this.end;
  }

  /**
   * Appends one batch; when `sync`, resolves once it and every earlier batch are durable.
   * Returns the number of syncs done (an fdatasync or an O_DSYNC write), for the WAL's stats.
   */
  async append(buf: Uint8Array, sync: boolean): Promise<number> {
    if (!sync && this.unsyncedBytes + buf.length <= this.unsyncedBytesMax) {
      await writeAll(this.fh, buf, this.end);
      this.end += buf.length;
      this.unsynced.push(buf);
      this.unsyncedBytes += buf.length;
      return 0;
    }
    if (this.dsync !== null) {
      const probe = activeDiskProbe;
      if (probe !== null) await probe.stall();
      await writevAll(this.dsync, [...this.unsynced, buf], this.syncedEnd);
      this.end += buf.length;
      this.markSynced();
      if (probe !== null) await this.journalSynced(probe);
      return 1;
    }
    await writeAll(this.fh, buf, this.end);
    this.end += buf.length;
    await syncFile(this.fh, this.path, 'fdatasync');
    this.markSynced();
    return 1;
  }

  /**
   * Appends one batch as `append` does, but through plain writes and fdatasync so that the hooks
   * run between them: `midRecord` halfway through the record starting at `lastRecordAt` (the file
   * then holds a torn record), `beforeSync` between the write and the fdatasync.
   */
  async appendWithHooks(buf: Uint8Array, lastRecordAt: number, sync: boolean, hooks: SegmentWriteHooks): Promise<number> {
    if (hooks.midRecord !== undefined) {
      const split = lastRecordAt + Math.max(1, Math.floor((buf.length - lastRecordAt) / 2));
      await writeAll(this.fh, buf.subarray(0, split), this.end);
      await hooks.midRecord();
      await writeAll(this.fh, buf.subarray(split), this.end + split);
    } else {
      await writeAll(this.fh, buf, this.end);
    }
    this.end += buf.length;
    if (!sync) {
      this.unsynced.push(buf);
      this.unsyncedBytes += buf.length;
      return 0;
    }
    await hooks.beforeSync?.();
    await syncFile(this.fh, this.path, 'fdatasync');
    this.markSynced();
    return 1;
  }

  /** Makes every written byte durable (before the segment is left for a new one). Returns the syncs done. */
  async syncAll(): Promise<number> {
    if (!this.hasUnsynced) return 0;
    await syncFile(this.fh, this.path, 'fdatasync');
    this.markSynced();
    return 1;
  }

  async close(): Promise<void> {
    try {
      await this.dsync?.close();
    } finally {
      await this.fh.close();
    }
  }

  /** Closes after a failure, ignoring errors: the WAL is already failed. */
  closeQuietly(): void {
    this.dsync?.close().catch(() => {});
    this.fh.close().catch(() => {});
  }

  /** Journals an O_DSYNC write: the synced region now ends at syncedEnd. */
  private async journalSynced(probe: DiskProbe): Promise<void> {
    if (!probe.journaling) return;
    this.ino ??= (await this.fh.stat()).ino;
    probe.fileDurable(this.ino, this.syncedEnd, this.path);
  }

  private markSynced(): void {
    this.syncedEnd = this.end;
    this.unsynced = [];
    this.unsyncedBytes = 0;
  }
}
