import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Entry, HardState } from '@kvapp/core';
import { writeAll, writeFileAtomic } from './atomic-file.js';
import { datasyncPath, fsyncDir, mkdirDurable, syncFile } from './file-sync.js';
import { WalError } from './errors.js';
import {
  decodeEntry,
  decodeHardState,
  decodeSnapshotMarker,
  encodeEntry,
  encodeHardState,
  encodeSnapshotMarker,
  type SnapshotMarker,
} from './payload.js';
import { FRAME_HEADER_BYTES, RecordType, encodeFrame } from './record.js';
import { Replay } from './replay.js';
import { SEGMENT_HEADER_BYTES, encodeSegmentHeader, parseSegmentName, scanSegment, segmentName, type ScannedRecord } from './segment.js';
import { SegmentWriter, type SegmentWriteHooks, type SyncMethod } from './segment-writer.js';

/**
 * Named points where the server (driven by the harness) can crash or stall the node. A batch
 * with any of them installed is written the slow way (plain writes, then fdatasync) so that the
 * hooks can run in between; install them only when armed.
 */
export interface WalFailpoints {
  /** After a batch is written, before its fsync: the data is in the page cache only. */
  readonly 'wal-before-fsync'?: () => void | Promise<void>;
  /** Halfway through writing the batch's last record: the file holds a torn record. */
  readonly 'wal-mid-record'?: () => void | Promise<void>;
}

export type WalLog = (level: 'info' | 'warn', message: string, fields: Record<string, unknown>) => void;

export interface WalOptions {
  /** A segment is rolled over once the next batch would take it past this. A single batch is never split. */
  readonly segmentBytesMax?: number;
  /** One group commit writes at most this many bytes (but always at least one save). */
  readonly batchBytesMax?: number;
  /** Largest record payload; larger ones on disk are treated as corrupt framing. */
  readonly recordBytesMax?: number;
  /** How a synced batch is made durable (see SyncMethod); `o-dsync` by default. */
  readonly syncMethod?: SyncMethod;
  readonly failpoints?: WalFailpoints;
  readonly log?: WalLog;
  /**
   * TEST ONLY (the planted bug --unsafe-ack-before-fsync): a save that asks for sync resolves
   * once written; the segment's fdatasync follows in the background within
   * ACK_BEFORE_FSYNC_DELAY_MS. A power cut in between loses acknowledged saves.
   */
  readonly unsafeAckBeforeFsync?: boolean;
  /**
   * TEST ONLY (the planted bug --unsafe-skip-dir-fsync): the WAL directory is never fsynced (new
   * segments, released segments, a cut tail): a power cut may lose a segment's name.
   */
  readonly unsafeSkipDirFsync?: boolean;
}

export const walOptionsDefault = {
  segmentBytesMax: 64 * 1024 * 1024,
  batchBytesMax: 4 * 1024 * 1024,
  recordBytesMax: 16 * 1024 * 1024,
  syncMethod: 'o-dsync',
  unsafeAckBeforeFsync: false,
  unsafeSkipDirFsync: false,
} as const satisfies WalOptions;

/** With unsafeAckBeforeFsync, how long after an unsynced acknowledgement the background fdatasync starts. */
export const ACK_BEFORE_FSYNC_DELAY_MS = 100;

export interface TruncatedTail {
  /** Segment whose tail was cut. */
  readonly file: string;
  /** Where the segment now ends: the offset of the first bad record. */
  readonly offset: number;
  /** How many bytes were cut. */
  readonly bytes: number;
  /** Where the cut bytes were kept. */
  readonly brokenFile: string;
  readonly reason: string;
}

export interface WalRecovered {
  /** The last hard state saved; null for a new WAL. */
  readonly hardState: HardState | null;
  /** The log after the snapshot marker (or from index 1), contiguous. */
  readonly entries: Entry[];
  readonly snapshotMarker: SnapshotMarker | null;
  readonly truncatedTail: TruncatedTail | null;
}

export interface WalStats {
  /** save()/saveSnapshotMarker() calls made durable. */
  saves: number;
  /**
   * Group commits. A synced one is one O_DSYNC writev (syncMethod `o-dsync`) or one write and one
   * fdatasync; with failpoints installed, two writes (mid-record) and one fdatasync.
   */
  batches: number;
  /** Every fsync or fdatasync and every O_DSYNC write, of segments and of the directory (open, rollover and release sync too). */
  fsyncs: number;
  bytesWritten: number;
  segments: number;
}

interface SegmentInfo {
  readonly seq: number;
  readonly path: string;
  /** Highest entry index written into this segment; 0 if none. */
  entryIndexMax: number;
}

interface PayloadRecord {
  readonly type: RecordType;
  readonly payload: Uint8Array;
}

interface PendingSave {
  readonly records: PayloadRecord[];
  readonly bytes: number;
  readonly hardState: HardState | null;
  readonly marker: SnapshotMarker | null;
  readonly entryIndexMax: number;
  readonly sync: boolean;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

/**
 * The write-ahead log of one node: Raft entries, hard state and snapshot markers in segmented,
 * checksummed, append-only files.
 *
 * Ordering contract: when save() resolves, everything passed to it (and to every save called
 * before it) is on disk. The caller must await it before sending any message that depends on
 * that state, above all a vote or an append acknowledgement.
 *
 * Group commit: save() calls made while a write+fsync is in progress (or in the same tick) are
 * written together by the next single write and fsync, in call order, up to batchBytesMax.
 */
export class Wal {
  private writer: SegmentWriter;
  private salt: number;
  private pending: PendingSave[] = [];
  private flushing: Promise<void> | null = null;
  private state: 'open' | 'closing' | 'closed' | 'failed' = 'open';
  private failure: WalError | null = null;
  private closing: Promise<void> | null = null;
  private durableHardState: HardState | null;
  private durableMarker: SnapshotMarker | null;
  /** As of every accepted save (durable or not): what the next save is checked against. */
  private acceptedLastIndex: number;
  private acceptedMarkerIndex: number;
  private readonly counters: WalStats;
  private readonly opts: Required<Omit<WalOptions, 'failpoints' | 'log'>> & Pick<WalOptions, 'failpoints' | 'log'>;
  /** The failpoint hooks as the writer runs them; null when none is installed (the fast path). */
  private readonly hooks: SegmentWriteHooks | null;
  /** unsafeAckBeforeFsync: the timer of the background fdatasync, and whether it is due. */
  private backgroundSyncTimer: NodeJS.Timeout | null = null;
  private backgroundSyncDue = false;

  private constructor(
    readonly dir: string,
    private readonly segments: SegmentInfo[],
    writer: SegmentWriter,
    salt: number,
    recovered: WalRecovered,
    opts: Wal['opts'],
    fsyncs: number,
  ) {
    this.writer = writer;
    this.salt = salt;
    const midRecord = opts.failpoints?.['wal-mid-record'];
    const beforeSync = opts.failpoints?.['wal-before-fsync'];
    this.hooks =
      midRecord === undefined && beforeSync === undefined
        ? null
        : { ...(midRecord !== undefined ? { midRecord } : {}), ...(beforeSync !== undefined ? { beforeSync } : {}) };
    this.opts = opts;
    this.durableHardState = recovered.hardState;
    this.durableMarker = recovered.snapshotMarker;
    this.acceptedMarkerIndex = recovered.snapshotMarker?.index ?? 0;
    this.acceptedLastIndex = recovered.entries.at(-1)?.index ?? this.acceptedMarkerIndex;
    this.counters = { saves: 0, batches: 0, fsyncs, bytesWritten: 0, segments: segments.length };
  }

  static async open(dir: string, options: WalOptions = {}): Promise<{ wal: Wal; recovered: WalRecovered }> {
    const opts = { ...walOptionsDefault, ...options };
    assert(opts.segmentBytesMax > SEGMENT_HEADER_BYTES, 'segmentBytesMax holds at least a header');
    assert(opts.batchBytesMax >= 1 && opts.recordBytesMax >= 1, 'batch and record limits >= 1');
    const log = opts.log ?? (() => {});
    await mkdirDurable(dir);
    const names = (await readdir(dir)).sort();
    for (const n of names.filter((n) => n.endsWith('.wal.tmp'))) {
      // A segment whose creation did not finish: never renamed, so never part of the log.
      await unlink(join(dir, n));
      log('warn', 'removed unfinished WAL segment', { file: join(dir, n) });
    }
    const seqs = names.map(parseSegmentName).filter((s): s is number => s !== null);
    let fsyncs = 0;
    if (seqs.length === 0) {
      const salt = newSalt();
      fsyncs += await writeFileAtomic(dir, segmentName(1), encodeSegmentHeader({ seq: 1, salt }), {
        unsafeSkipDirFsync: opts.unsafeSkipDirFsync,
      });
      const path = join(dir, segmentName(1));
      const writer = await SegmentWriter.open(path, SEGMENT_HEADER_BYTES, opts.syncMethod, opts.batchBytesMax);
      const recovered: WalRecovered = { hardState: null, entries: [], snapshotMarker: null, truncatedTail: null };
      const wal = new Wal(dir, [{ seq: 1, path, entryIndexMax: 0 }], writer, salt, recovered, opts, fsyncs);
      return { wal, recovered };
    }
    const replay = new Replay();
    const segments: SegmentInfo[] = [];
    let truncatedTail: TruncatedTail | null = null;
    let lastSize = 0;
    let lastSalt = 0;
    for (const [i, seq] of seqs.entries()) {
      const path = join(dir, segmentName(seq));
      const buf = new Uint8Array(await readFile(path));
      const isLast = i === seqs.length - 1;
      const scan = scanSegment(buf, path, opts.recordBytesMax, isLast);
      if (scan.header.seq !== seq) {
        throw new WalError('WAL_CORRUPT_SEGMENT', `WAL segment ${path} says it is segment ${scan.header.seq}`, path, 0);
      }
      segments.push({ seq, path, entryIndexMax: replaySegment(replay, scan.records, path) });
      if (isLast) {
        lastSalt = scan.header.salt;
        lastSize = buf.length;
        if (scan.tail !== null) {
          truncatedTail = await cutTail(path, buf, scan.tail.offset, scan.tail.reason, opts.unsafeSkipDirFsync);
          fsyncs += opts.unsafeSkipDirFsync ? 2 : 3;
          lastSize = scan.tail.offset;
          log('warn', 'WAL tail was torn or corrupt; cut it off (it was never acknowledged)', { ...truncatedTail });
        }
      }
    }
    const recovered: WalRecovered = { ...replay.finish(dir), truncatedTail };
    const last = segments.at(-1)!;
    if (truncatedTail === null) {
      // The previous process may have died with unsynced bytes in the page cache. Later synced
      // batches (O_DSYNC) promise only their own bytes, so make the whole file durable now.
      await datasyncPath(last.path);
      fsyncs++;
    }
    const writer = await SegmentWriter.open(last.path, lastSize, opts.syncMethod, opts.batchBytesMax);
    const wal = new Wal(dir, segments, writer, lastSalt, recovered, opts, fsyncs);
    log('info', 'WAL recovered', {
      dir,
      segments: segments.length,
      entries: recovered.entries.length,
      lastIndex: recovered.entries.at(-1)?.index ?? null,
      snapshotIndex: recovered.snapshotMarker?.index ?? null,
    });
    return { wal, recovered };
  }

  /** A copy of the counters. */
  stats(): WalStats {
    return { ...this.counters, segments: this.segments.length };
  }

  /**
   * Makes `hardState` (if not null) and `entries` durable; resolves when they are. Entries must be
   * contiguous; the first may be at or below the last saved index (a Raft log truncation: the
   * saved suffix from there on is replaced) but not beyond last+1, nor at or below the snapshot
   * marker. Violations are programmer errors and throw synchronously.
   *
   * `sync: false` (for a change of the commit index alone, which Raft can recompute) resolves
   * once written, without waiting for an fsync; the next synced save makes it durable too. A
   * batch is fsynced if any save in it asks for it.
   */
  save(hardState: HardState | null, entries: readonly Entry[], options: { readonly sync?: boolean } = {}): Promise<void> {
    const refused = this.refusal();
    if (refused !== null) return Promise.reject(refused);
    this.checkEntries(entries);
    const records: PayloadRecord[] = [];
    if (hardState !== null) records.push({ type: RecordType.hardState, payload: encodeHardState(hardState) });
    for (const e of entries) records.push({ type: RecordType.entry, payload: encodeEntry(e) });
    const last = entries.at(-1);
    if (last !== undefined) this.acceptedLastIndex = last.index;
    return this.enqueue(records, hardState, null, last?.index ?? 0, options.sync ?? true);
  }

  /**
   * Records that a snapshot at `marker` is durable (the caller wrote the snapshot file first), so
   * that entries up to marker.index are no longer needed and releaseTo may delete old segments.
   */
  saveSnapshotMarker(marker: SnapshotMarker): Promise<void> {
    const refused = this.refusal();
    if (refused !== null) return Promise.reject(refused);
    assert(Number.isSafeInteger(marker.index) && marker.index >= this.acceptedMarkerIndex, 'snapshot markers never go back');
    this.acceptedMarkerIndex = marker.index;
    this.acceptedLastIndex = Math.max(this.acceptedLastIndex, marker.index);
    const records = [{ type: RecordType.snapshotMarker, payload: encodeSnapshotMarker(marker) }];
    return this.enqueue(records, null, marker, 0, true);
  }

  /**
   * Deletes the oldest segments whose entries are all at or below `index` (never the active
   * one). `index` must be covered by a durable snapshot marker. Resolves with how many went.
   */
  releaseTo(index: number): Promise<number> {
    const refused = this.refusal();
    if (refused !== null) return Promise.reject(refused);
    assert(
      this.durableMarker !== null && index <= this.durableMarker.index,
      `releaseTo(${index}) needs a durable snapshot marker at or past it`,
    );
    return this.release(index);
  }

  private async release(index: number): Promise<number> {
    let n = 0;
    while (n < this.segments.length - 1 && this.segments[n]!.entryIndexMax <= index) n++;
    const doomed = this.segments.splice(0, n);
    for (const s of doomed) await unlink(s.path);
    if (n > 0) {
      if (!this.opts.unsafeSkipDirFsync) {
        await fsyncDir(this.dir);
        this.counters.fsyncs++;
      }
      this.opts.log?.('info', 'released WAL segments', { upTo: index, files: doomed.map((s) => s.path) });
    }
    return n;
  }

  /** Waits for pending saves, then closes. Later calls are refused with WAL_CLOSED. */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    if (this.backgroundSyncTimer !== null) clearTimeout(this.backgroundSyncTimer);
    this.backgroundSyncTimer = null;
    if (this.state === 'open') {
      this.state = 'closing';
      while (this.flushing !== null) await this.flushing;
    }
    // A failed WAL closed its file when it failed.
    if (this.state !== 'failed') await this.writer.close();
    this.state = 'closed';
  }

  private refusal(): WalError | null {
    if (this.state === 'failed') return this.failure;
    if (this.state !== 'open') return new WalError('WAL_CLOSED', `WAL in ${this.dir} is closed`);
    return null;
  }

  private checkEntries(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    assert(first.index > this.acceptedMarkerIndex, `entry ${first.index} at or below snapshot ${this.acceptedMarkerIndex}`);
    assert(first.index <= this.acceptedLastIndex + 1, `entry ${first.index} leaves a gap after ${this.acceptedLastIndex}`);
    for (let i = 1; i < entries.length; i++) {
      assert(entries[i]!.index === entries[i - 1]!.index + 1, 'entries in one save are contiguous');
    }
  }

  private enqueue(
    records: PayloadRecord[],
    hardState: HardState | null,
    marker: SnapshotMarker | null,
    entryIndexMax: number,
    sync: boolean,
  ): Promise<void> {
    let bytes = 0;
    for (const r of records) {
      assert(r.payload.length <= this.opts.recordBytesMax, `record of ${r.payload.length} bytes exceeds recordBytesMax`);
      bytes += FRAME_HEADER_BYTES + r.payload.length;
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ records, bytes, hardState, marker, entryIndexMax, sync, resolve, reject });
      // Starting on a later microtask lets every save of the current tick join the first batch.
      this.flushing ??= Promise.resolve().then(() => this.flushLoop());
    });
  }

  private async flushLoop(): Promise<void> {
    while ((this.pending.length > 0 || this.backgroundSyncDue) && this.state !== 'failed') {
      if (this.backgroundSyncDue) {
        this.backgroundSyncDue = false;
        try {
          this.counters.fsyncs += await this.writer.syncAll();
        } catch (err) {
          this.fail(err, []);
          break;
        }
        continue;
      }
      const batch = this.takeBatch();
      try {
        await this.writeBatch(batch);
      } catch (err) {
        this.fail(err, batch);
        break;
      }
      for (const p of batch) {
        if (p.hardState !== null) this.durableHardState = p.hardState;
        if (p.marker !== null) this.durableMarker = p.marker;
        p.resolve();
      }
    }
    this.flushing = null;
  }

  private takeBatch(): PendingSave[] {
    let n = 1;
    let bytes = this.pending[0]!.bytes;
    while (n < this.pending.length && bytes + this.pending[n]!.bytes <= this.opts.batchBytesMax) bytes += this.pending[n++]!.bytes;
    return this.pending.splice(0, n);
  }

  private async writeBatch(batch: PendingSave[]): Promise<void> {
    const bytes = batch.reduce((n, p) => n + p.bytes, 0);
    if (this.writer.size > SEGMENT_HEADER_BYTES && this.writer.size + bytes > this.opts.segmentBytesMax) await this.rollover();
    const buf = new Uint8Array(bytes);
    let at = 0;
    let lastFrameAt = 0;
    for (const p of batch) {
      for (const r of p.records) {
        const frame = encodeFrame(this.salt, r.type, r.payload);
        buf.set(frame, at);
        lastFrameAt = at;
        at += frame.length;
      }
    }
    let sync = batch.some((p) => p.sync);
    if (sync && this.opts.unsafeAckBeforeFsync) {
      sync = false;
      this.scheduleBackgroundSync();
    }
    this.counters.fsyncs +=
      this.hooks === null ? await this.writer.append(buf, sync) : await this.writer.appendWithHooks(buf, lastFrameAt, sync, this.hooks);
    this.counters.bytesWritten += bytes;
    this.counters.batches++;
    this.counters.saves += batch.length;
    const active = this.segments.at(-1)!;
    for (const p of batch) active.entryIndexMax = Math.max(active.entryIndexMax, p.entryIndexMax);
  }

  /**
   * unsafeAckBeforeFsync: the fdatasync of what was acknowledged unsynced, ACK_BEFORE_FSYNC_DELAY_MS
   * from now, run by the flush loop between batches (never beside a write). Cleared on close.
   */
  private scheduleBackgroundSync(): void {
    if (this.backgroundSyncTimer !== null) return;
    this.backgroundSyncTimer = setTimeout(() => {
      this.backgroundSyncTimer = null;
      if (this.state !== 'open') return;
      this.backgroundSyncDue = true;
      this.flushing ??= Promise.resolve().then(() => this.flushLoop());
    }, ACK_BEFORE_FSYNC_DELAY_MS);
    this.backgroundSyncTimer.unref();
  }

  /**
   * Starts a new segment that repeats the durable hard state and snapshot marker, so that any
   * older segment can be deleted once a snapshot covers its entries. The old segment's unsynced
   * tail (commit-only saves) is synced first: a later power loss must not tear a segment that is
   * no longer the last, which recovery would refuse as corruption.
   */
  private async rollover(): Promise<void> {
    this.counters.fsyncs += await this.writer.syncAll();
    const seq = this.segments.at(-1)!.seq + 1;
    const salt = newSalt();
    const parts: Uint8Array[] = [encodeSegmentHeader({ seq, salt })];
    if (this.durableHardState !== null) parts.push(encodeFrame(salt, RecordType.hardState, encodeHardState(this.durableHardState)));
    if (this.durableMarker !== null) parts.push(encodeFrame(salt, RecordType.snapshotMarker, encodeSnapshotMarker(this.durableMarker)));
    const bytes = concat(parts);
    this.counters.fsyncs += await writeFileAtomic(this.dir, segmentName(seq), bytes, { unsafeSkipDirFsync: this.opts.unsafeSkipDirFsync });
    const path = join(this.dir, segmentName(seq));
    const writer = await SegmentWriter.open(path, bytes.length, this.opts.syncMethod, this.opts.batchBytesMax);
    await this.writer.close();
    this.writer = writer;
    this.salt = salt;
    this.segments.push({ seq, path, entryIndexMax: 0 });
    this.opts.log?.('info', 'WAL segment rolled over', { file: path });
  }

  private fail(err: unknown, batch: PendingSave[]): void {
    this.state = 'failed';
    this.failure = new WalError('WAL_FAILED', `WAL in ${this.dir} failed to write or fsync: ${String(err)}; restart the node`, null, null, {
      cause: err,
    });
    this.opts.log?.('warn', 'WAL failed', { dir: this.dir, err: String(err) });
    for (const p of [...batch, ...this.pending]) p.reject(this.failure);
    this.pending = [];
    this.writer.closeQuietly();
  }
}

function newSalt(): number {
  return randomBytes(4).readUInt32LE(0);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Feeds a segment's records to the replay; returns the highest entry index seen. */
function replaySegment(replay: Replay, records: ScannedRecord[], path: string): number {
  let entryIndexMax = 0;
  for (const r of records) {
    try {
      if (r.type === RecordType.entry) {
        const e = decodeEntry(r.payload);
        replay.entry(e);
        entryIndexMax = Math.max(entryIndexMax, e.index);
      } else if (r.type === RecordType.hardState) {
        replay.hardState(decodeHardState(r.payload));
      } else {
        replay.marker(decodeSnapshotMarker(r.payload));
      }
    } catch (err) {
      // The checksum held, so this is not a torn write: a bug or a format from elsewhere.
      throw new WalError(
        'WAL_CORRUPT_RECORD',
        `WAL record in ${path} at offset ${r.offset} does not decode: ${String(err)}`,
        path,
        r.offset,
      );
    }
  }
  return entryIndexMax;
}

/** Moves the bytes from `offset` on into a `.broken` file beside the segment, then cuts the segment. */
async function cutTail(path: string, buf: Uint8Array, offset: number, reason: string, skipDirFsync: boolean): Promise<TruncatedTail> {
  const cut = buf.subarray(offset);
  let brokenFile = `${path}.broken`;
  for (let n = 1; await exists(brokenFile); n++) brokenFile = `${path}.${n}.broken`;
  const bf = await open(brokenFile, 'wx');
  try {
    await writeAll(bf, cut, 0);
    await syncFile(bf, brokenFile, 'fsync');
  } finally {
    await bf.close();
  }
  const fh = await open(path, 'r+');
  try {
    await fh.truncate(offset);
    await syncFile(fh, path, 'fsync');
  } finally {
    await fh.close();
  }
  if (!skipDirFsync) await fsyncDir(join(path, '..'));
  return { file: path, offset, bytes: cut.length, brokenFile, reason };
}

async function exists(path: string): Promise<boolean> {
  try {
    await (await open(path, 'r')).close();
    return true;
  } catch {
    return false;
  }
}
