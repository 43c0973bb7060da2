import { createHash } from 'node:crypto';
import { open, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { SnapshotInfo } from './protocol.js';

/**
 * The file `kvapp snapshot save` writes and `kvapp-node --restore` reads (format version 1):
 *
 *   one line of JSON, ended by "\n":
 *     {"format":"kvapp-snapshot","version":1,"index":I,"term":T,"bytes":N,"sha256":"<64 hex>"}
 *   then exactly N bytes: the node's snapshot file as it holds it (snap/<index>.snap: "KVSN",
 *   its own CRC32C, the meta {index, term, conf} and the KV state machine's snapshot).
 *
 * `sha256` is the SHA-256 of those N bytes, the checksum the node named when it served them, so
 * a file can be checked with `tail -c N file | sha256sum` and its header read with `head -1`.
 */
export const BACKUP_FORMAT = 'kvapp-snapshot';
export const BACKUP_VERSION = 1;

/** The header line is short; a first line longer than this is not a backup file. */
const HEADER_BYTES_MAX = 4096;

export interface BackupHeader extends SnapshotInfo {
  readonly format: typeof BACKUP_FORMAT;
  readonly version: typeof BACKUP_VERSION;
}

/** Why a backup file cannot be used; the message is one line naming the file. */
export class BackupFileError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`snapshot file ${file} is unusable: ${reason}`);
    this.name = 'BackupFileError';
  }
}

export function encodeBackupHeader(info: SnapshotInfo): Buffer {
  const header = {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    index: info.index,
    term: info.term,
    bytes: info.bytes,
    sha256: info.checksum,
  };
  return Buffer.from(`${JSON.stringify(header)}\n`);
}

function parseHeader(file: string, line: Buffer): BackupHeader {
  let x: Record<string, unknown>;
  try {
    x = JSON.parse(line.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new BackupFileError(file, 'the first line is not JSON (not a kvapp snapshot file)');
  }
  if (typeof x !== 'object' || x === null || x['format'] !== BACKUP_FORMAT) throw new BackupFileError(file, `not a ${BACKUP_FORMAT} file`);
  if (x['version'] !== BACKUP_VERSION) throw new BackupFileError(file, `unknown version ${JSON.stringify(x['version'])}`);
  const count = (name: string, min: number): number => {
    const v = x[name];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min)
      throw new BackupFileError(file, `header field ${name} is missing or bad`);
    return v;
  };
  const sha = x['sha256'];
  if (typeof sha !== 'string' || !/^[0-9a-f]{64}$/.test(sha)) throw new BackupFileError(file, 'header field sha256 is missing or bad');
  return {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    index: count('index', 1),
    term: count('term', 0),
    bytes: count('bytes', 1),
    checksum: sha,
  };
}

/**
 * Reads a backup file whole and checks it: the header, the length and the SHA-256 of the node's
 * snapshot bytes. Throws BackupFileError (one line) on any mismatch; resolves with the header and
 * those bytes.
 */
export async function readBackupFile(file: string): Promise<{ header: BackupHeader; payload: Buffer }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new BackupFileError(file, (error as Error).message);
  }
  const newline = bytes.subarray(0, HEADER_BYTES_MAX).indexOf(0x0a);
  if (newline < 0) throw new BackupFileError(file, 'no header line (not a kvapp snapshot file)');
  const header = parseHeader(file, bytes.subarray(0, newline));
  const payload = bytes.subarray(newline + 1);
  if (payload.length !== header.bytes)
    throw new BackupFileError(file, `the header says ${header.bytes} snapshot bytes, the file holds ${payload.length} (truncated?)`);
  const sha = createHash('sha256').update(payload).digest('hex');
  if (sha !== header.checksum) throw new BackupFileError(file, `checksum mismatch (header sha256 ${header.checksum}, content ${sha})`);
  return { header, payload };
}

/**
 * Writes a backup file from chunks as they arrive, hashing them on the way: a temp file beside
 * `file`, then (finish) fsync, check length and SHA-256 against the header, rename over `file`,
 * fsync the directory. abort() removes the temp file; nothing is left at `file` unless finished.
 */
export class BackupWriter {
  private readonly tmp: string;
  private fh: FileHandle | null = null;
  private hash = createHash('sha256');
  private written = 0;
  private position = 0;
  private info: SnapshotInfo | null = null;

  constructor(private readonly file: string) {
    this.tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  }

  /** Starts (or starts again) a file for the snapshot `info`. */
  async begin(info: SnapshotInfo): Promise<void> {
    if (this.fh === null) this.fh = await open(this.tmp, 'w');
    await this.fh.truncate(0);
    this.hash = createHash('sha256');
    this.written = 0;
    this.info = info;
    const header = encodeBackupHeader(info);
    await this.writeAt(header, 0);
    this.position = header.length;
  }

  async append(chunk: Buffer): Promise<void> {
    await this.writeAt(chunk, this.position);
    this.position += chunk.length;
    this.written += chunk.length;
    this.hash.update(chunk);
  }

  get bytesWritten(): number {
    return this.written;
  }

  /** Checks, syncs and renames into place; throws (and removes the temp file) on a mismatch. */
  async finish(): Promise<void> {
    const info = this.info;
    const fh = this.fh;
    if (info === null || fh === null) throw new Error('finish() before begin()');
    const sha = this.hash.digest('hex');
    if (this.written !== info.bytes || sha !== info.checksum) {
      await this.abort();
      throw new Error(
        `the bytes read (${this.written}, sha256 ${sha}) are not the snapshot the node named (${info.bytes}, sha256 ${info.checksum}); nothing was written`,
      );
    }
    await fh.sync();
    await fh.close();
    this.fh = null;
    await rename(this.tmp, this.file);
    const dir = await open(dirname(this.file), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  async abort(): Promise<void> {
    if (this.fh !== null) {
      await this.fh.close().catch(() => undefined);
      this.fh = null;
    }
    await unlink(this.tmp).catch(() => undefined);
  }

  private async writeAt(bytes: Buffer, position: number): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.fh!.write(bytes, done, bytes.length - done, position + done);
      done += bytesWritten;
    }
  }
}
