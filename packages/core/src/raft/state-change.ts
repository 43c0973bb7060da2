import type { NodeId, Role } from './types.js';

/**
 * Why a node's role, term or known leader changed. Set by the transition itself, so operators
 * read the real cause instead of guessing it from before/after states.
 */
export type StateChangeReason =
  /** No word from a leader for an election timeout: campaign (PreVote first when enabled). */
  | 'election-timeout'
  /** The application called RaftNode.campaign(). */
  | 'campaign-requested'
  /** The leader sent timeout-now (leadership transfer): campaign at once, skipping PreVote. */
  | 'leadership-transfer'
  /** A quorum would vote for us: start the real election, in the next term. */
  | 'pre-vote-won'
  /** A quorum refused the pre-vote: back to follower, term unchanged. */
  | 'pre-vote-lost'
  /** A quorum refused the vote: back to follower in the election's term. */
  | 'election-lost'
  /** A quorum voted for us: leader. */
  | 'election-won'
  /** A message with a higher term arrived: follow in that term (its sender, if it is the leader). */
  | 'higher-term'
  /** An append, heartbeat or snapshot from the leader of our term: follow it. */
  | 'leader-seen'
  /** CheckQuorum: a leader that heard from no quorum within an election timeout steps down. */
  | 'check-quorum-lost'
  /** A leader applied a configuration that no longer has it as a voter: it steps down. */
  | 'removed';

/** One change of (role, term, leader), with the state before it and its cause. Plain data. */
export interface StateChange {
  readonly reason: StateChangeReason;
  /** The peer whose message caused the change; NONE for a local cause (a tick, an API call, a quorum's tally). */
  readonly from: NodeId;
  readonly role: Role;
  readonly term: number;
  readonly leader: NodeId;
  readonly previousRole: Role;
  readonly previousTerm: number;
  readonly previousLeader: NodeId;
}
