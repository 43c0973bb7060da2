import type { StateChange } from './state-change.js';
import type { Entry, HardState, Message, ReadState, Snapshot, SoftState } from './types.js';

/**
 * What the caller must do next, in this order:
 * 1. install `snapshot` (if any) and append `entries` to stable storage, and persist `hardState`;
 *    fsync when `mustSync`;
 * 2. send `messagesAfterPersist` (they promise what step 1 made durable: votes, acknowledgements);
 * 3. apply `committedEntries` in order; serve `readStates` once applied up to their index;
 * 4. call advance().
 * `messages` may be sent at once, in parallel with step 1 (a leader's appends: thesis §10.2.1).
 * Step 3 may come before step 1 finishes (committed entries are durable on a quorum). With
 * asynchronous writes, call accept() once step 1 is started and step 3 done, and persisted()
 * with its token after step 2's write is durable (writes complete in order).
 */
export interface Ready {
  /** Leader or role changed; null when unchanged since the last Ready. */
  readonly softState: SoftState | null;
  /** Null when unchanged since the last Ready. Must be durable BEFORE messagesAfterPersist are sent. */
  readonly hardState: HardState | null;
  /** Append to stable storage, replacing any conflicting suffix, BEFORE messagesAfterPersist are sent. */
  readonly entries: readonly Entry[];
  /** A snapshot from the leader to install in storage and the state machine, before `entries`. */
  readonly snapshot: Snapshot | null;
  /** Committed entries to apply, in order. */
  readonly committedEntries: readonly Entry[];
  /** May be sent immediately. */
  readonly messages: readonly Message[];
  /** May be sent only after hardState, entries and snapshot are durable. */
  readonly messagesAfterPersist: readonly Message[];
  /** ReadIndex results: serve each read once the state machine has applied `index`. */
  readonly readStates: readonly ReadState[];
  /**
   * Contexts of ReadIndex requests this follower forwarded and the leader refused (a new leader
   * that has not yet committed an entry of its term, or a full read queue). Each will never get a
   * ReadState: fail or retry it.
   */
  readonly readsRefused: readonly Uint8Array[];
  /**
   * Every change of role, term or known leader since the last Ready, oldest first, each with its
   * cause (election timeout, PreVote, transfer, CheckQuorum, higher term, ...): for logs and
   * metrics. Purely informative: softState and hardState already carry the resulting state.
   */
  readonly stateChanges: readonly StateChange[];
  /** Whether step 1 needs an fsync (new entries, or term/vote changed). */
  readonly mustSync: boolean;
}
