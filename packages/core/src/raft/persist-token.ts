/**
 * What one accepted Ready handed to the caller for writing. The caller gives it back to
 * RaftNode.persisted() once that write is durable; tokens come back in the order they were issued
 * (writes complete in order), which is what lets a later write vouch for every earlier one.
 */
export interface PersistToken {
  /** 1 for the first Ready accepted by this RaftNode, then 2, 3, ...: checks the order. */
  readonly sequence: number;
  /** The last entry the Ready handed off, or null when it had none. */
  readonly lastEntry: { readonly index: number; readonly term: number } | null;
  /** The index of the snapshot the Ready handed off, or null. */
  readonly snapshotIndex: number | null;
  /** The unstable log's generation at hand-off: a different one means the entries were replaced meanwhile. */
  readonly generation: number;
}
