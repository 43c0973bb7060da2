export type WalErrorCode =
  /** A record before the tail failed its checksum or framing: refuse to start, a human must look. */
  | 'WAL_CORRUPT_RECORD'
  /** A segment header is unreadable. */
  | 'WAL_CORRUPT_SEGMENT'
  /** The records are individually intact but do not form a log (e.g. entries missing below the snapshot). */
  | 'WAL_INCONSISTENT'
  | 'WAL_CLOSED'
  /** A write or fsync failed earlier. After a failed fsync the page cache cannot be trusted, so the WAL refuses all further writes; restart to recover from disk. */
  | 'WAL_FAILED';

export class WalError extends Error {
  constructor(
    readonly code: WalErrorCode,
    message: string,
    /** The segment file concerned, when there is one. */
    readonly file: string | null = null,
    /** Byte offset in `file` of the bad record. */
    readonly offset: number | null = null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'WalError';
  }
}
