import type { ConfState, Entry, HardState, Snapshot, Storage } from '@kvapp/core';

/** What the driver persists from each Ready: the snapshot first, then entries, then hard state. */
export interface PersistBatch {
  readonly hardState: HardState | null;
  readonly entries: readonly Entry[];
  readonly snapshot: Snapshot | null;
  /** fsync needed (new entries, or term/vote changed); a commit-only change may skip it. */
  readonly mustSync: boolean;
}

/**
 * The node's log as two faces: `storage` is what the Raft core reads (always reflecting every
 * finished persist), `persist` makes a Ready's writes durable. The WAL implements it on disk;
 * tests use the in-memory one.
 */
export interface DurableLog {
  readonly storage: Storage;
  persist(batch: PersistBatch): Promise<void>;
  /** Takes a snapshot of the applied state at `index`, then drops the log it covers. */
  compact(index: number, conf: ConfState, data: Uint8Array): Promise<void>;
  close(): Promise<void>;
}
