import type { Rng } from './rng.js';
import type { Storage } from './storage.js';
import type { NodeId } from './types.js';

/**
 * Test-only switches that each break one rule of Raft, so that the simulator and the chaos
 * suite can prove they notice. All off by default; never turn one on in production.
 */
export interface UnsafeSwitches {
  /** Commit entries of an older term by counting replicas (breaks §5.4.2, Figure 8). */
  readonly commitOldTermEntries?: boolean;
  /** Grant votes without checking whether the candidate's log is up to date (breaks §5.4.1). */
  readonly voteWithoutLogCheck?: boolean;
  /** Accept an append without checking the previous entry (breaks log matching). */
  readonly appendWithoutPrevCheck?: boolean;
  /** Answer ReadIndex at once, without confirming leadership with a quorum. */
  readIndexWithoutQuorum?: boolean;
}

export interface RaftConfig {
  readonly id: NodeId;
  readonly storage: Storage;
  /** Seeded randomness for election timeouts; the same seed gives the same timeouts. */
  readonly rng: Rng;
  /** Base election timeout in ticks; each election waits a random time in [electionTicks, 2 * electionTicks). */
  readonly electionTicks: number;
  /** A leader sends heartbeats every heartbeatTicks; must be well below electionTicks. */
  readonly heartbeatTicks: number;
  /** The last index the application has applied (on restart); 0 for a fresh node. */
  readonly applied?: number;
  /** PreVote (thesis §9.6): a partitioned node does not inflate terms and disrupt the cluster on return. */
  readonly preVote?: boolean;
  /** CheckQuorum: a leader that has not heard from a quorum within an election timeout steps down. */
  readonly checkQuorum?: boolean;
  /** Appends in flight to one follower before the leader waits for acknowledgements. */
  readonly inflightAppendsMax?: number;
  /** Bytes in flight to one follower (0: unbounded by bytes). */
  readonly inflightBytesMax?: number;
  /** Bytes of entries in one append message (at least one entry is always sent). */
  readonly messageBytesMax?: number;
  /** Payload bytes the leader accepts before they commit; past it, proposals are refused. */
  readonly uncommittedBytesMax?: number;
  /** Bytes of committed entries handed to the application per Ready. */
  readonly committedBytesPerReadyMax?: number;
  /** ReadIndex requests waiting for a quorum at once. */
  readonly pendingReadsMax?: number;
  /**
   * How a follower in step with the leader learns a new commit index. true: the leader sends it an
   * empty append at once (etcd's way), which costs two messages per follower per commit. false:
   * the commit rides on the next append, or on an empty append at the next tick if none went out;
   * a follower about to serve a ReadIndex read is told at once. Followers then apply up to a tick
   * later; the leader, which answers writes, does not wait.
   */
  readonly eagerCommitUpdates?: boolean;
  readonly unsafe?: UnsafeSwitches;
}

export interface ResolvedRaftConfig extends Required<Omit<RaftConfig, 'unsafe'>> {
  readonly unsafe: UnsafeSwitches;
}

export const RAFT_DEFAULTS = {
  preVote: true,
  checkQuorum: true,
  inflightAppendsMax: 256,
  inflightBytesMax: 0,
  messageBytesMax: 1024 * 1024,
  uncommittedBytesMax: 64 * 1024 * 1024,
  committedBytesPerReadyMax: 64 * 1024 * 1024,
  pendingReadsMax: 4096,
  eagerCommitUpdates: false,
} as const;

/** Validates a config, throwing a RangeError that names the bad field. */
export function resolveRaftConfig(config: RaftConfig): ResolvedRaftConfig {
  const resolved: ResolvedRaftConfig = {
    applied: 0,
    ...RAFT_DEFAULTS,
    ...config,
    unsafe: config.unsafe ?? {},
  };
  const positiveInteger = (name: keyof ResolvedRaftConfig, allowZero = false): void => {
    const value = resolved[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
      throw new RangeError(`raft config: ${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${String(value)}`);
    }
  };
  positiveInteger('id');
  positiveInteger('electionTicks');
  positiveInteger('heartbeatTicks');
  positiveInteger('inflightAppendsMax');
  positiveInteger('inflightBytesMax', true);
  positiveInteger('messageBytesMax');
  positiveInteger('uncommittedBytesMax');
  positiveInteger('committedBytesPerReadyMax');
  positiveInteger('pendingReadsMax');
  positiveInteger('applied', true);
  if (resolved.heartbeatTicks >= resolved.electionTicks) {
    throw new RangeError(
      `raft config: heartbeatTicks (${resolved.heartbeatTicks}) must be below electionTicks (${resolved.electionTicks})`,
    );
  }
  return resolved;
}
