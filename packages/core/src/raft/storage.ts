import type { ConfState, Entry, HardState, Snapshot } from './types.js';

/**
 * The durable log as the core reads it. The caller owns writing: it appends what a Ready says
 * and only then calls advance(). Reads must reflect every write the caller finished.
 *
 * Indexes: the log holds entries firstIndex()..lastIndex(); the entry at firstIndex()-1 is the
 * snapshot's (compacted) one, whose term is still answered by term().
 */
export interface Storage {
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries in [lo, hi), at least one if any exist, stopping before `bytesMax` is exceeded. */
  entries(lo: number, hi: number, bytesMax: number): Entry[];
  /** Term of the entry at `index`; throws StorageError 'COMPACTED' below firstIndex()-1, 'UNAVAILABLE' past lastIndex(). */
  term(index: number): number;
  firstIndex(): number;
  lastIndex(): number;
  /** The newest snapshot; a leader sends it to a follower that needs compacted entries. */
  snapshot(): Snapshot;
}

export type StorageErrorCode = 'COMPACTED' | 'UNAVAILABLE' | 'SNAPSHOT_OUT_OF_DATE';

export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'StorageError';
  }
}
