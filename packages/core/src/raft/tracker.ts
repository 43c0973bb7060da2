import { Progress } from './progress.js';
import { jointCommitted, jointVote, type VoteResult } from './quorum.js';
import type { ConfState, NodeId } from './types.js';

export interface TrackerLimits {
  readonly inflightAppendsMax: number;
  readonly inflightBytesMax: number;
}

/** The membership and the leader's per-peer progress, kept together so they never disagree. */
export class ProgressTracker {
  voters = new Set<NodeId>();
  votersOutgoing = new Set<NodeId>();
  learners = new Set<NodeId>();
  readonly progress = new Map<NodeId, Progress>();
  readonly votes = new Map<NodeId, boolean>();

  constructor(private readonly limits: TrackerLimits) {}

  /** Replaces the membership; progress is kept for nodes that stay, created for new ones at `next`. */
  applyConf(conf: ConfState, next: number): void {
    this.voters = new Set(conf.voters);
    this.votersOutgoing = new Set(conf.votersOutgoing);
    this.learners = new Set(conf.learners);
    const members = this.members();
    for (const id of [...this.progress.keys()]) if (!members.has(id)) this.progress.delete(id);
    for (const id of members) {
      const existing = this.progress.get(id);
      if (existing) existing.isLearner = this.learners.has(id);
      else this.progress.set(id, this.newProgress(next, this.learners.has(id)));
    }
  }

  confState(): ConfState {
    return {
      voters: [...this.voters].sort((a, b) => a - b),
      learners: [...this.learners].sort((a, b) => a - b),
      votersOutgoing: [...this.votersOutgoing].sort((a, b) => a - b),
    };
  }

  members(): Set<NodeId> {
    return new Set([...this.voters, ...this.votersOutgoing, ...this.learners]);
  }

  isVoter(id: NodeId): boolean {
    return this.voters.has(id) || this.votersOutgoing.has(id);
  }

  isJoint(): boolean {
    return this.votersOutgoing.size > 0;
  }

  isSingleton(): boolean {
    return this.voters.size === 1 && this.votersOutgoing.size === 0;
  }

  newProgress(next: number, isLearner: boolean): Progress {
    return new Progress(next, this.limits.inflightAppendsMax, this.limits.inflightBytesMax, isLearner);
  }

  /** The largest index a quorum (both halves, when joint) has made durable. */
  committed(): number {
    return jointCommitted(this.voters, this.votersOutgoing, (id) => this.progress.get(id)?.match ?? 0);
  }

  resetVotes(): void {
    this.votes.clear();
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  voteResult(): VoteResult {
    return jointVote(this.voters, this.votersOutgoing, this.votes);
  }

  /** Whether `acks` (a set of voters) forms a quorum. */
  isQuorum(acks: ReadonlySet<NodeId>): boolean {
    const votes = new Map<NodeId, boolean>();
    for (const id of acks) votes.set(id, true);
    return jointVote(this.voters, this.votersOutgoing, votes) === 'won';
  }

  /** CheckQuorum: were a quorum of voters heard from since the last call? Resets the marks. */
  quorumActiveAndReset(self: NodeId): boolean {
    const active = new Set<NodeId>();
    for (const [id, progress] of this.progress) {
      if (id === self || progress.recentActive) active.add(id);
      if (id !== self) progress.recentActive = false;
    }
    return this.isQuorum(active);
  }
}
