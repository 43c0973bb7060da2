/**
 * The data that crosses the core's boundary: log entries, persisted state, messages and the
 * Ready batch. Everything here is plain data so that callers can encode it however they like
 * (the node server uses msgpack on the wire and in the WAL).
 */

/** A node's identity in the cluster: a positive integer. 0 means "nobody". */
export type NodeId = number;
export const NONE: NodeId = 0;

export type EntryType = 'normal' | 'conf-change';

export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  /** Opaque to Raft. An empty payload on a 'normal' entry is the new leader's no-op. */
  readonly data: Uint8Array;
}

/** What must be durable before any message that depends on it is sent. */
export interface HardState {
  readonly term: number;
  /** Whom this node voted for in `term`; NONE if nobody. Forgetting it allows two leaders per term. */
  readonly vote: NodeId;
  /** Invariant: commit <= last index of the durable log. */
  readonly commit: number;
}

/** The membership the log says is current. `votersOutgoing` is non-empty only in a joint configuration. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  readonly votersOutgoing: readonly NodeId[];
}

export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly conf: ConfState;
}

export interface Snapshot {
  readonly meta: SnapshotMeta;
  /** The application's state machine at `meta.index`; opaque to Raft. */
  readonly data: Uint8Array;
}

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

export type MessageType =
  | 'append'
  | 'append-resp'
  | 'heartbeat'
  | 'heartbeat-resp'
  | 'vote'
  | 'vote-resp'
  | 'pre-vote'
  | 'pre-vote-resp'
  | 'snapshot'
  | 'timeout-now'
  | 'read-index'
  | 'read-index-resp';

/**
 * One Raft message. A flat record (as in etcd's raftpb.Message) keeps codecs trivial; each field
 * says which message types use it.
 */
export interface Message {
  readonly type: MessageType;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  /** append: term of the entry at `index` (the one before `entries`); vote/pre-vote: candidate's last log term. */
  readonly logTerm: number;
  /** append: index before `entries`; vote: candidate's last index; append-resp: highest matched or rejected index. */
  readonly index: number;
  readonly entries: readonly Entry[];
  /** append/heartbeat: leader's commit index, capped at what the follower is known to have. */
  readonly commit: number;
  /** append-resp/vote-resp/pre-vote-resp: the request was refused. */
  readonly reject: boolean;
  /** append-resp with reject: the follower's hint for fast backtracking (index of first entry of `hintTerm`, or its last index + 1). */
  readonly rejectHint: number;
  /** append-resp with reject: term of the follower's entry at `rejectHint` (0 when the follower's log is shorter). */
  readonly hintTerm: number;
  /** heartbeat/read-index/read-index-resp: opaque request context for ReadIndex. */
  readonly context: Uint8Array | null;
  /** snapshot: the snapshot to install. */
  readonly snapshot: Snapshot | null;
}

/** A linearizable read that is now safe: serve it once the state machine has applied `index`. */
export interface ReadState {
  readonly index: number;
  readonly context: Uint8Array;
}

export interface SoftState {
  readonly leader: NodeId;
  readonly role: Role;
}
