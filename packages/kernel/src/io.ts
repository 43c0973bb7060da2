import type { ConfState, Entry, HardState, KvResult, Message, Snapshot, StateChange } from '@kvapp/core';

/**
 * One durable write the kernel asks for. Jobs complete in the order they were started, and the
 * kernel is told of each with `writeDone()`; until then it holds back what depends on the write.
 */
export type WriteJob =
  /**
   * A Ready's writes: the snapshot first, then the entries (replacing any conflicting suffix),
   * then the hard state. `mustSync`: fsync before completing (new entries, or term/vote changed).
   * A hard state that changed only its commit index rides along with the next job that has
   * something else to write; it is never written alone.
   */
  | {
      readonly kind: 'persist';
      readonly hardState: HardState | null;
      readonly entries: readonly Entry[];
      readonly snapshot: Snapshot | null;
      readonly mustSync: boolean;
    }
  /** Snapshot the applied state at `index` and drop the log it covers. `index` is applied here. */
  | { readonly kind: 'compact'; readonly index: number; readonly conf: ConfState; readonly data: Uint8Array };

/** The world as the kernel sees it. Each call must return promptly and must not throw. */
export interface KernelIo {
  /** Hands messages to the transport (a full queue drops: Raft retransmits). */
  send(messages: readonly Message[]): void;
  /** Starts a durable write; its completion comes back as `kernel.writeDone()`, in start order. */
  startWrite(job: WriteJob): void;
  /**
   * The node's clock in ms, stamped into each proposed command: the state machine expires
   * sessions by the leaders' stamps carried in the log. Never used for deadlines (those count ticks).
   */
  nowMs(): number;
}

/** What the kernel applies entries to: the KV state machine, or anything shaped like it. */
export interface StateMachine {
  /** The index of the last entry applied (or of the snapshot it was restored from). */
  readonly appliedIndex: number;
  /** Applies one committed entry; the command's result, or null for an entry that carries none. */
  apply(entry: Entry): KvResult | null;
  /** The value of `key` in the applied state. */
  read(key: string): string | null;
  /** The applied state as bytes, for a snapshot at `appliedIndex`. */
  snapshot(): Uint8Array;
}

/** Things worth knowing as they happen: metrics, logs, and the simulator's invariant checks. */
export interface KernelObserver {
  /** Entries just made durable (in the job's order). */
  persisted?(entries: readonly Entry[]): void;
  /** Called right before an entry is applied: the place of the 'before-apply' failpoint. */
  beforeApply?(entry: Entry): void;
  applied?(entry: Entry): void;
  /** Each change of role, term or leader, with the core's reason, as the Ready reports it. */
  stateChange?(change: StateChange): void;
}
